import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../src/index.js';
import { everythingAbout, rejectionOf, startHarness, USER } from './helpers.js';

describe('getManifestDigest against the fake registry, per auth mode', () => {
  it('none: one ping, then one HEAD per check', async () => {
    const h = await startHarness({ auth: 'none' });
    const digest = h.registry.pushRandomImage('acme/app', 'latest');
    const result = await h.client.getManifestDigest(h.ref('acme/app'));
    expect(result.digest).toBe(digest);
    expect(result.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(h.registry.requests.map((r) => `${r.method} ${r.kind}`)).toEqual([
      'GET ping',
      'HEAD manifest',
    ]);
    const head = h.registry.requests[1]!;
    expect(head.headers.accept).toContain('application/vnd.oci.image.index.v1+json');
    expect(head.headers.accept).toContain(
      'application/vnd.docker.distribution.manifest.list.v2+json',
    );
  });

  it('resolves OCI images and pinned digests', async () => {
    const h = await startHarness({ auth: 'none' });
    const digest = h.registry.pushRandomImage('acme/oci', 'v1', { format: 'oci' });
    const byTag = await h.client.getManifestDigest(h.ref('acme/oci', 'v1'));
    expect(byTag).toEqual({ digest, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    const byDigest = await h.client.getManifestDigest(`${h.registry.host}/acme/oci@${digest}`);
    expect(byDigest.digest).toBe(digest);
  });

  it('bearer with credentials: Basic on the token request with account, service and scope', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    const digest = h.registry.pushRandomImage('acme/app');
    expect((await h.client.getManifestDigest(h.ref('acme/app'))).digest).toBe(digest);
    const token = h.registry.requests.find((r) => r.kind === 'token');
    expect(token?.presented).toMatchObject({ scheme: 'basic', username: USER.username });
    expect(token?.query).toMatchObject({
      account: USER.username,
      service: h.registry.service,
      scope: 'repository:acme/app:pull',
    });
    const heads = h.registry.requests.filter((r) => r.kind === 'manifest');
    expect(heads.map((r) => [r.status, r.presented.scheme])).toEqual([[200, 'bearer']]);
    // Request events carry no query, header or credential.
    expect(h.events.length).toBe(3);
    expect(JSON.stringify(h.events)).not.toMatch(
      new RegExp(`${USER.password}|account=|Basic|Bearer`),
    );
  });

  it('bearer, anonymous pull allowed: token fetched without credentials', async () => {
    const h = await startHarness({ auth: 'bearer', allowAnonymousPull: true });
    h.registry.pushRandomImage('acme/app');
    await h.client.getManifestDigest(h.ref('acme/app'));
    const token = h.registry.requests.find((r) => r.kind === 'token');
    expect(token?.presented.scheme).toBe('none');
    expect(token?.status).toBe(200);
  });

  it('bearer with the realm on another loopback port (Docker Hub style)', async () => {
    const h = await startHarness(
      { auth: 'bearer-external-realm', users: [USER] },
      { credentials: USER },
    );
    const digest = h.registry.pushRandomImage('acme/app');
    expect((await h.client.getManifestDigest(h.ref('acme/app'))).digest).toBe(digest);
    const token = h.registry.requests.find((r) => r.kind === 'token');
    expect(token?.origin).toBe('realm');
    expect(token?.presented.username).toBe(USER.username);
  });

  it('basic (ECR style): credentials sent directly on the manifest request', async () => {
    const h = await startHarness({ auth: 'basic', users: [USER] }, { credentials: USER });
    const digest = h.registry.pushRandomImage('acme/app');
    expect((await h.client.getManifestDigest(h.ref('acme/app'))).digest).toBe(digest);
    const manifest = h.registry.requests.filter((r) => r.kind === 'manifest');
    expect(manifest.map((r) => [r.status, r.presented.scheme, r.presented.username])).toEqual([
      [200, 'basic', USER.username],
    ]);
    expect(h.registry.requests.some((r) => r.kind === 'token')).toBe(false);
  });

  it('basic without credentials: UNAUTHORIZED telling what to set', async () => {
    const h = await startHarness({ auth: 'basic', users: [USER] });
    h.registry.pushRandomImage('acme/app');
    const error = await rejectionOf(h.client.getManifestDigest(h.ref('acme/app')));
    expect(isRegistryError(error) && error.code).toBe('UNAUTHORIZED');
    expect((error as Error).message).toMatch(
      /^\[HEAD\] "http:\/\/127\.0\.0\.1:\d+\/v2\/acme\/app\/manifests\/latest": 401 Unauthorized — no credentials found for 127\.0\.0\.1:\d+; set MOLECULE_REGISTRY_USERNAME\/PASSWORD/,
    );
  });

  it.each(['basic', 'bearer'] as const)(
    '%s with a wrong password: UNAUTHORIZED without the secret',
    async (auth) => {
      const wrong = { username: USER.username, password: 'Wrong-Pass-77aa' };
      const h = await startHarness({ auth, users: [USER] }, { credentials: wrong });
      h.registry.pushRandomImage('acme/app');
      const error = await rejectionOf(h.client.getManifestDigest(h.ref('acme/app')));
      expect(isRegistryError(error) && error.code).toBe('UNAUTHORIZED');
      expect((error as Error).message).toContain(
        'MOLECULE_REGISTRY_USERNAME/MOLECULE_REGISTRY_PASSWORD',
      );
      const all = everythingAbout(error);
      expect(all).not.toContain(wrong.password);
      expect(all).not.toContain(
        Buffer.from(`${wrong.username}:${wrong.password}`).toString('base64'),
      );
    },
  );

  it('identity token: OAuth2 refresh grant POSTed to the realm', async () => {
    const identityToken = 'refresh-Secret-123';
    const h = await startHarness(
      { auth: 'bearer', identityTokens: [{ username: 'azure-user', refreshToken: identityToken }] },
      {
        client: {
          credentials: {
            resolve: async () => ({
              kind: 'identity-token',
              username: '00000000-0000-0000-0000-000000000000',
              identityToken,
              source: 'docker-config',
            }),
          },
        },
      },
    );
    const digest = h.registry.pushRandomImage('acme/app');
    expect((await h.client.getManifestDigest(h.ref('acme/app'))).digest).toBe(digest);
    const token = h.registry.requests.find((r) => r.kind === 'token');
    expect(token?.method).toBe('POST');
    expect(token?.grantType).toBe('refresh_token');
    expect(token?.status).toBe(200);
  });
});
