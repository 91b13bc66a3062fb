import { afterEach, describe, expect, it } from 'vitest';
import { tokenId } from './digest.js';
import { DOCKER_MANIFEST } from './media-types.js';
import { startFakeRegistry } from './server.js';
import type { FakeRegistry, FakeRegistryOptions } from './types.js';

const USER = { username: 'robot', password: 'hunter2-very-secret' };
const REPO = 'molecule-ai/workspace-template-codex';

let registry: FakeRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function start(options: FakeRegistryOptions): Promise<FakeRegistry> {
  registry = await startFakeRegistry(options);
  registry.pushRandomImage(REPO);
  return registry;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function manifestUrl(r: FakeRegistry): string {
  return `${r.url}/v2/${REPO}/manifests/latest`;
}

async function getToken(
  r: FakeRegistry,
  query: Record<string, string>,
  authorization?: string,
): Promise<Response> {
  const url = new URL(r.realmUrl!);
  for (const [name, value] of Object.entries(query)) url.searchParams.append(name, value);
  return fetch(url, authorization === undefined ? {} : { headers: { authorization } });
}

describe("auth 'bearer' (GHCR-style, realm on the same host)", () => {
  it('challenges with realm, service and scope', async () => {
    const r = await start({ auth: 'bearer', users: [USER] });
    expect(r.realmUrl).toBe(`${r.url}/token`);
    const ping = await fetch(`${r.url}/v2/`);
    expect(ping.status).toBe(401);
    expect(ping.headers.get('www-authenticate')).toBe(
      `Bearer realm="${r.url}/token",service="fake-registry"`,
    );
    const manifest = await fetch(manifestUrl(r), { method: 'HEAD' });
    expect(manifest.status).toBe(401);
    expect(manifest.headers.get('www-authenticate')).toBe(
      `Bearer realm="${r.url}/token",service="fake-registry",scope="repository:${REPO}:pull"`,
    );
  });

  it('issues a token for a user and accepts it; the log shows a token id, never a secret', async () => {
    const r = await start({ auth: 'bearer', users: [USER], tokenExpiresInSeconds: 120 });
    const tokenResponse = await getToken(
      r,
      { service: 'fake-registry', scope: `repository:${REPO}:pull`, account: USER.username },
      basic(USER.username, USER.password),
    );
    expect(tokenResponse.status).toBe(200);
    const body = (await tokenResponse.json()) as Record<string, unknown>;
    expect(body.token).toEqual(expect.any(String));
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(120);
    const token = body.token as string;
    const head = await fetch(manifestUrl(r), {
      method: 'HEAD',
      headers: { authorization: `Bearer ${token}`, accept: DOCKER_MANIFEST },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(r.digestOf(REPO, 'latest'));

    const [tokenRequest, manifestRequest] = r.requests;
    expect(tokenRequest).toMatchObject({
      kind: 'token',
      status: 200,
      query: { service: 'fake-registry', account: USER.username },
      presented: { scheme: 'basic', username: USER.username },
    });
    expect(manifestRequest).toMatchObject({
      kind: 'manifest',
      status: 200,
      presented: { scheme: 'bearer', tokenId: tokenId(token) },
    });
    const log = JSON.stringify(r.requests);
    expect(log).not.toContain(USER.password);
    expect(log).not.toContain(token);
    expect(log).not.toContain(Buffer.from(`${USER.username}:${USER.password}`).toString('base64'));
  });

  it('refuses anonymous and wrong-password token requests when users are set', async () => {
    const r = await start({ auth: 'bearer', users: [USER] });
    const query = { service: 'fake-registry', scope: `repository:${REPO}:pull` };
    expect((await getToken(r, query)).status).toBe(401);
    expect((await getToken(r, query, basic(USER.username, 'wrong'))).status).toBe(401);
    expect(JSON.stringify(r.requests)).not.toContain('wrong');
  });

  it('grants anonymous pull tokens when allowed, but not push', async () => {
    const r = await start({ auth: 'bearer', users: [USER], allowAnonymousPull: true });
    const response = await getToken(r, {
      service: 'fake-registry',
      scope: `repository:${REPO}:pull,push`,
    });
    const { token } = (await response.json()) as { token: string };
    const pull = await fetch(manifestUrl(r), { headers: { authorization: `Bearer ${token}` } });
    expect(pull.status).toBe(200);
    const push = await fetch(`${r.url}/v2/${REPO}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(push.status).toBe(401);
    expect(push.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('answers 401 invalid_token for unknown, revoked or expired tokens', async () => {
    const r = await start({ auth: 'bearer', tokenExpiresInSeconds: 1 });
    const unknown = await fetch(manifestUrl(r), { headers: { authorization: 'Bearer made-up' } });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toBe(
      `Bearer realm="${r.url}/token",service="fake-registry",scope="repository:${REPO}:pull",error="invalid_token"`,
    );
    const take = async () =>
      (
        (await (
          await getToken(r, { service: 'fake-registry', scope: `repository:${REPO}:pull` })
        ).json()) as {
          token: string;
        }
      ).token;
    const revoked = await take();
    r.revokeTokens();
    const afterRevoke = await fetch(manifestUrl(r), {
      headers: { authorization: `Bearer ${revoked}` },
    });
    expect(afterRevoke.status).toBe(401);
    const expiring = await take();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const afterExpiry = await fetch(manifestUrl(r), {
      headers: { authorization: `Bearer ${expiring}` },
    });
    expect(afterExpiry.status).toBe(401);
    expect(afterExpiry.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('can leave expires_in out and answer only access_token', async () => {
    const r = await start({
      auth: 'bearer',
      omitExpiresIn: true,
      tokenResponseFields: 'access_token',
    });
    const body = (await (await getToken(r, { service: 'fake-registry' })).json()) as Record<
      string,
      unknown
    >;
    expect(body).not.toHaveProperty('expires_in');
    expect(body).not.toHaveProperty('token');
    expect(body.access_token).toEqual(expect.any(String));
  });

  it('rejects a token request for another service', async () => {
    const r = await start({ auth: 'bearer' });
    expect((await getToken(r, { service: 'ghcr.io' })).status).toBe(400);
  });

  it('accepts repeated scope parameters', async () => {
    const r = await start({ auth: 'bearer', users: [USER] });
    r.pushRandomImage('other/repo');
    const url = new URL(r.realmUrl!);
    url.searchParams.set('service', 'fake-registry');
    url.searchParams.append('scope', `repository:${REPO}:pull`);
    url.searchParams.append('scope', 'repository:other/repo:pull');
    const { token } = (await (
      await fetch(url, { headers: { authorization: basic(USER.username, USER.password) } })
    ).json()) as { token: string };
    for (const repo of [REPO, 'other/repo']) {
      const response = await fetch(`${r.url}/v2/${repo}/manifests/latest`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
    }
    expect(r.requests[0]?.queryAll.scope).toEqual([
      `repository:${REPO}:pull`,
      'repository:other/repo:pull',
    ]);
  });
});

describe("auth 'bearer' token POST (OAuth2)", () => {
  it('exchanges a configured identity token (refresh grant) for an access token', async () => {
    const r = await start({
      auth: 'bearer',
      users: [USER],
      identityTokens: [
        { username: '00000000-0000-0000-0000-000000000000', refreshToken: 'refresh-secret' },
      ],
    });
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      service: 'fake-registry',
      scope: `repository:${REPO}:pull`,
      client_id: 'molecule',
      refresh_token: 'refresh-secret',
    });
    const response = await fetch(r.realmUrl!, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe(`repository:${REPO}:pull`);
    const head = await fetch(manifestUrl(r), {
      method: 'HEAD',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(head.status).toBe(200);
    expect(r.requests[0]).toMatchObject({
      method: 'POST',
      kind: 'token',
      grantType: 'refresh_token',
      presented: { tokenId: tokenId('refresh-secret') },
    });
    form.set('refresh_token', 'unknown');
    expect((await fetch(r.realmUrl!, { method: 'POST', body: form })).status).toBe(401);
    expect(JSON.stringify(r.requests)).not.toContain('refresh-secret');
  });

  it('supports the password grant', async () => {
    const r = await start({ auth: 'bearer', users: [USER] });
    const form = new URLSearchParams({
      grant_type: 'password',
      service: 'fake-registry',
      client_id: 'molecule',
      username: USER.username,
      password: USER.password,
    });
    expect((await fetch(r.realmUrl!, { method: 'POST', body: form })).status).toBe(200);
    form.set('password', 'nope');
    expect((await fetch(r.realmUrl!, { method: 'POST', body: form })).status).toBe(401);
    expect(JSON.stringify(r.requests)).not.toContain(USER.password);
  });
});

describe("auth 'bearer-external-realm' (Docker Hub-style)", () => {
  it('puts the token endpoint on another port and records it as kind token', async () => {
    const r = await start({ auth: 'bearer-external-realm', users: [USER] });
    expect(r.realmUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/token$/);
    expect(new URL(r.realmUrl!).host).not.toBe(r.host);
    const challenge = (await fetch(manifestUrl(r))).headers.get('www-authenticate');
    expect(challenge).toBe(
      `Bearer realm="${r.realmUrl}",service="fake-registry",scope="repository:${REPO}:pull"`,
    );
    expect((await fetch(`${r.url}/token?service=fake-registry`)).status).toBe(404);
    const response = await getToken(
      r,
      { service: 'fake-registry', scope: `repository:${REPO}:pull` },
      basic(USER.username, USER.password),
    );
    const { token } = (await response.json()) as { token: string };
    const get = await fetch(manifestUrl(r), { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(200);
    expect(r.requests.filter((q) => q.kind === 'token').map((q) => q.origin)).toEqual(['realm']);
  });

  it('closes the realm listener too', async () => {
    const r = await start({ auth: 'bearer-external-realm' });
    const realmUrl = r.realmUrl!;
    await r.close();
    await expect(fetch(`${realmUrl}?service=fake-registry`)).rejects.toThrow();
  });
});

describe("auth 'basic' (ECR-style)", () => {
  it('challenges with Basic and accepts credentials on every request', async () => {
    const r = await start({ auth: 'basic', users: [USER] });
    expect(r.realmUrl).toBeUndefined();
    const anonymous = await fetch(manifestUrl(r), { method: 'HEAD' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"$/);
    const wrong = await fetch(manifestUrl(r), {
      headers: { authorization: basic(USER.username, 'x') },
    });
    expect(wrong.status).toBe(401);
    const ok = await fetch(manifestUrl(r), {
      method: 'HEAD',
      headers: { authorization: basic(USER.username, USER.password) },
    });
    expect(ok.status).toBe(200);
    expect(r.requests.at(-1)?.presented).toEqual({ scheme: 'basic', username: USER.username });
    expect(JSON.stringify(r.requests)).not.toContain(USER.password);
    expect((await fetch(`${r.url}/token?service=fake-registry`)).status).toBe(404);
  });

  it('lets anonymous clients pull when allowAnonymousPull is set', async () => {
    const r = await start({ auth: 'basic', users: [USER], allowAnonymousPull: true });
    expect((await fetch(manifestUrl(r), { method: 'HEAD' })).status).toBe(200);
    const push = await fetch(`${r.url}/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
    expect(push.status).toBe(401);
  });
});
