import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isRegistryError, type RegistryError } from '../src/index.js';
import { rejectionOf, startHarness, USER } from './helpers.js';
import { startScriptedRegistry } from './scripted-registry.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

async function registryError(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await rejectionOf(promise);
  if (!isRegistryError(error)) throw error;
  return error;
}

function sha256(body: string | Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

const indexBody = (digests: string[] = []) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: digests.map((digest) => ({ mediaType: OCI_MANIFEST, digest, size: 10 })),
  });

describe('getManifest', () => {
  it('returns the exact bytes by tag and by digest, with the digest and canonical media type', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    const digest = h.registry.pushRandomImage('acme/app', 'v1', { format: 'oci' });
    const byTag = await h.client.getManifest(h.ref('acme/app', 'v1'), { accept: [OCI_MANIFEST] });
    expect(byTag.digest).toBe(digest);
    expect(sha256(byTag.body)).toBe(digest);
    expect(byTag.mediaType).toBe(OCI_MANIFEST);
    const byDigest = await h.client.getManifest(`${h.registry.host}/acme/app@${digest}`);
    expect(byDigest.body.equals(byTag.body)).toBe(true);
    const gets = h.registry.requests.filter((r) => r.kind === 'manifest');
    expect(gets.map((r) => [r.method, r.headers.accept])).toEqual([
      ['GET', OCI_MANIFEST],
      ['GET', expect.stringContaining(OCI_INDEX)],
    ]);
    expect(h.registry.requests.filter((r) => r.kind === 'token')).toHaveLength(1);
  });

  it('asked by digest, a body of another digest is DIGEST_MISMATCH', async () => {
    const other = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_V2,
      config: {},
      layers: [],
    });
    const r = await startScriptedRegistry(() => ({
      status: 200,
      headers: { 'content-type': DOCKER_V2 },
      body: other,
    }));
    const asked = sha256('the manifest we asked for');
    const error = await registryError(r.client.getManifest(`${r.host}/acme/app@${asked}`));
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.message).toContain(asked);
  });

  it('a Docker-Content-Digest that does not match the body is DIGEST_MISMATCH', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.pushRandomImage('acme/app');
    h.registry.fault({ kind: 'manifest', method: 'GET' }, { wrongDigest: true });
    expect((await registryError(h.client.getManifest(h.ref('acme/app')))).code).toBe(
      'DIGEST_MISMATCH',
    );
  });

  it('404 is NOT_FOUND, not retried', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.pushRandomImage('acme/app');
    const error = await registryError(h.client.getManifest(h.ref('acme/app', 'sha256-abc.sig')));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('acme/app:sha256-abc.sig');
    expect(h.registry.requests.filter((r) => r.kind === 'manifest')).toHaveLength(1);
  });

  it('accepts only the types asked for, and refuses a login page like getManifestDigest', async () => {
    const r = await startScriptedRegistry((request) =>
      request.path.endsWith('/login')
        ? { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>sign in</html>' }
        : {
            status: 200,
            headers: { 'content-type': DOCKER_V2 },
            body: JSON.stringify({
              schemaVersion: 2,
              mediaType: DOCKER_V2,
              config: {},
              layers: [],
            }),
          },
    );
    const narrow = await registryError(
      r.client.getManifest(`${r.host}/acme/app:sig`, { accept: [OCI_INDEX] }),
    );
    expect(narrow.code).toBe('BAD_RESPONSE');
    expect(narrow.message).toContain(`Content-Type ${DOCKER_V2}, not ${OCI_INDEX}`);
    const page = await registryError(r.client.getManifest(`${r.host}/acme/app:login`));
    expect(page.code).toBe('BAD_RESPONSE');
    expect(page.message).toContain('text/html');
  });

  it('an accept list without manifest types is CONFIG, before any request', async () => {
    const r = await startScriptedRegistry(() => ({ status: 500 }));
    for (const accept of [[], ['text/html'], [OCI_INDEX, 'application/json']]) {
      const error = await registryError(r.client.getManifest(`${r.host}/acme/app:x`, { accept }));
      expect(error.code).toBe('CONFIG');
    }
    expect(r.requests).toHaveLength(0);
  });

  it('maxBytes bounds the body below the client cap', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.pushRandomImage('acme/app');
    const error = await registryError(h.client.getManifest(h.ref('acme/app'), { maxBytes: 100 }));
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.message).toContain('larger than 100 bytes');
  });
});

describe('getBlob', () => {
  it('returns the blob, digest-verified; 404 is NOT_FOUND; a tag is CONFIG', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    h.registry.pushRandomImage('acme/app');
    const digest = h.registry.putBlob('a signature payload');
    const blob = await h.client.getBlob(`${h.registry.host}/acme/app@${digest}`);
    expect(blob.toString()).toBe('a signature payload');
    const missing = await registryError(
      h.client.getBlob(`${h.registry.host}/acme/app@${sha256('absent')}`),
    );
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('blob unknown');
    expect((await registryError(h.client.getBlob(h.ref('acme/app')))).code).toBe('CONFIG');
    expect(h.events.filter((e) => e.kind === 'blob').map((e) => e.status)).toEqual([200, 404]);
  });

  it('a body that does not hash to the digest is DIGEST_MISMATCH', async () => {
    const r = await startScriptedRegistry(() => ({ status: 200, body: 'altered bytes' }));
    const error = await registryError(r.client.getBlob(`${r.host}/acme/app@${sha256('original')}`));
    expect(error.code).toBe('DIGEST_MISMATCH');
  });

  it('follows a redirect to blob storage on another origin, without Authorization there', async () => {
    const payload = 'stored elsewhere';
    const storage = await startScriptedRegistry(() => ({ status: 200, body: payload }));
    const r = await startScriptedRegistry(
      (request) => ({
        status: 307,
        headers: { location: `${storage.origin}/bucket${request.path}?X-Amz-Signature=abc` },
      }),
      { basic: USER },
    );
    const digest = sha256(payload);
    expect((await r.client.getBlob(`${r.host}/acme/app@${digest}`)).toString()).toBe(payload);
    expect(r.requests[0]?.headers.authorization).toMatch(/^Basic /);
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]?.path).toBe(
      `/bucket/v2/acme/app/blobs/${digest}?X-Amz-Signature=abc`,
    );
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('maxBytes bounds the blob', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.pushRandomImage('acme/app');
    const digest = h.registry.putBlob('x'.repeat(2048));
    const error = await registryError(
      h.client.getBlob(`${h.registry.host}/acme/app@${digest}`, { maxBytes: 1024 }),
    );
    expect(error.code).toBe('BAD_RESPONSE');
  });
});

describe('getReferrers', () => {
  const subject = sha256('image');

  it('a registry without the API (404): undefined, and the request is reported as referrers', async () => {
    const h = await startHarness({ auth: 'bearer', users: [USER] }, { credentials: USER });
    h.registry.pushRandomImage('acme/app');
    expect(await h.client.getReferrers(`${h.registry.host}/acme/app@${subject}`)).toBeUndefined();
    expect(h.events.map((e) => `${e.kind} ${e.status}`)).toEqual([
      'ping 401',
      'token 200',
      'referrers 404',
    ]);
    expect(h.events.at(-1)?.path).toBe(`/v2/acme/app/referrers/${subject}`);
  });

  it('returns the OCI index body, asking for an OCI index', async () => {
    const body = indexBody([sha256('a referrer')]);
    const r = await startScriptedRegistry(() => ({
      status: 200,
      headers: { 'content-type': `${OCI_INDEX}; charset=utf-8` },
      body,
    }));
    const answer = await r.client.getReferrers(`${r.host}/acme/app@${subject}`);
    expect(answer?.toString()).toBe(body);
    expect(r.requests.map((q) => [q.path, q.headers.accept])).toEqual([
      [`/v2/acme/app/referrers/${subject}`, OCI_INDEX],
    ]);
  });

  it.each([
    ['a login page', 'text/html', '<html>sign in</html>'],
    ['JSON of another type', 'application/json', indexBody()],
    ['an index type without manifests', OCI_INDEX, JSON.stringify({ schemaVersion: 2 })],
    ['an index type with a body that is not JSON', OCI_INDEX, '{"manifests": ['],
  ])('a 200 with %s is BAD_RESPONSE', async (_what, type, body) => {
    const r = await startScriptedRegistry(() => ({
      status: 200,
      headers: { 'content-type': type },
      body,
    }));
    const error = await registryError(r.client.getReferrers(`${r.host}/acme/app@${subject}`));
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.path).toBe(`/v2/acme/app/referrers/${subject}`);
    expect(error.message).toContain(type);
  });

  it('other failures are errors, not "no API": 401 UNAUTHORIZED, 503 UNAVAILABLE', async () => {
    const denied = await startScriptedRegistry(() => ({ status: 401 }), { basic: USER });
    const unauthorized = await registryError(
      denied.client.getReferrers(`${denied.host}/acme/app@${subject}`),
    );
    const r = await startScriptedRegistry(() => ({ status: 503 }));
    const unavailable = await registryError(r.client.getReferrers(`${r.host}/acme/app@${subject}`));
    expect(unavailable.code).toBe('UNAVAILABLE');
    expect(r.requests).toHaveLength(4);
    expect(unauthorized.code).toBe('UNAUTHORIZED');
  });
});
