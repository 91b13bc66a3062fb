import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isRegistryError, type RegistryError } from '../src/index.js';
import { rejectionOf, startHarness } from './helpers.js';
import { type ScriptedAnswer, startScriptedRegistry } from './scripted-registry.js';

const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

const LOGIN_PAGE = '<!doctype html><html><body><form action="/login">Sign in</form></body></html>';
const DESCRIPTOR = {
  mediaType: 'application/vnd.oci.image.config.v1+json',
  size: 2,
  digest: `sha256:${'a'.repeat(64)}`,
};
const IMAGE_MANIFEST = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: DESCRIPTOR,
  layers: [],
};
const INDEX = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };

async function registryError(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await rejectionOf(promise);
  if (!isRegistryError(error)) throw error;
  return error;
}

function sha256(body: string): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** HEAD answers without a digest (so the client must GET); GET answers `get`. */
function headWithoutDigestThen(get: ScriptedAnswer, headType = DOCKER_V2) {
  return startScriptedRegistry((request) =>
    request.method === 'HEAD' ? { status: 200, headers: { 'content-type': headType } } : get,
  );
}

/** The message names host, path, status and the content type that came back. */
function expectNamesTheAnswer(error: RegistryError, host: string, contentType: string) {
  expect(error.code).toBe('BAD_RESPONSE');
  expect(error.status).toBe(200);
  expect(error.host).toBe(host);
  expect(error.path).toBe('/v2/acme/app/manifests/latest');
  expect(error.message).toContain(`http://${host}/v2/acme/app/manifests/latest`);
  expect(error.message).toContain(': 200');
  expect(error.message).toContain(contentType);
}

describe('a 200 that is not a manifest is never a digest', () => {
  it('HEAD 200 text/html with a Docker-Content-Digest: BAD_RESPONSE, not the header digest', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.putManifest('acme/app', 'latest', { mediaType: 'text/html', body: LOGIN_PAGE });
    const error = await registryError(h.client.getManifestDigest(h.ref('acme/app')));
    expectNamesTheAnswer(error, h.registry.host, 'text/html');
    expect(error.message).not.toContain(sha256(LOGIN_PAGE));
  });

  it('HEAD 200 text/html without a Docker-Content-Digest: BAD_RESPONSE', async () => {
    const h = await startHarness({ auth: 'none' });
    h.registry.putManifest('acme/app', 'latest', { mediaType: 'text/html', body: LOGIN_PAGE });
    h.registry.fault({ kind: 'manifest', method: 'HEAD' }, { omitDigestHeader: true });
    const error = await registryError(h.client.getManifestDigest(h.ref('acme/app')));
    expectNamesTheAnswer(error, h.registry.host, 'text/html');
  });

  it('GET 200 text/html after a HEAD without digest: BAD_RESPONSE naming the GET', async () => {
    const r = await headWithoutDigestThen({
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: LOGIN_PAGE,
    });
    const error = await registryError(r.client.getManifestDigest(`${r.host}/acme/app:latest`));
    expectNamesTheAnswer(error, r.host, 'text/html');
    expect(error.method).toBe('GET');
    expect(r.requests.map((q) => q.method)).toEqual(['HEAD', 'GET']);
  });

  it('GET 200 without any Content-Type: BAD_RESPONSE', async () => {
    const r = await headWithoutDigestThen({ status: 200, body: JSON.stringify(IMAGE_MANIFEST) });
    const error = await registryError(r.client.getManifestDigest(`${r.host}/acme/app:latest`));
    expectNamesTheAnswer(error, r.host, 'no Content-Type');
  });

  it.each([
    ['an HTML page', LOGIN_PAGE],
    ['garbage bytes', '\u0000\u00ff\u0010not json'],
    ['a JSON string', '"schemaVersion"'],
    ['JSON null', 'null'],
  ])('GET 200 with a manifest Content-Type but %s as body: BAD_RESPONSE', async (_what, body) => {
    const h = await startHarness({ auth: 'none' });
    h.registry.putManifest('acme/app', 'latest', { mediaType: DOCKER_V2, body });
    h.registry.fault({ kind: 'manifest', method: 'HEAD' }, { omitDigestHeader: true });
    const error = await registryError(h.client.getManifestDigest(h.ref('acme/app')));
    expectNamesTheAnswer(error, h.registry.host, DOCKER_V2);
    expect(error.message).toContain('not');
  });

  it.each([
    ['an image manifest served as an OCI index', OCI_INDEX, IMAGE_MANIFEST],
    ['an index served as a Docker manifest', DOCKER_V2, { ...INDEX, mediaType: undefined }],
    ['an index served as a Docker manifest list', DOCKER_LIST, IMAGE_MANIFEST],
    ['schemaVersion 1', OCI_MANIFEST, { ...IMAGE_MANIFEST, schemaVersion: 1 }],
    [
      'a body mediaType other than the Content-Type',
      OCI_MANIFEST,
      { ...IMAGE_MANIFEST, mediaType: DOCKER_V2 },
    ],
    ['an image manifest without layers', OCI_MANIFEST, { schemaVersion: 2, config: DESCRIPTOR }],
    [
      'an image manifest without config',
      DOCKER_V2,
      { schemaVersion: 2, mediaType: DOCKER_V2, layers: [] },
    ],
    ['an index whose manifests is not an array', OCI_INDEX, { ...INDEX, manifests: {} }],
    ['a JSON array', OCI_MANIFEST, [IMAGE_MANIFEST]],
    ['an empty object', OCI_INDEX, {}],
  ])('GET 200 with JSON of the wrong kind (%s): BAD_RESPONSE', async (_what, type, json) => {
    const body = JSON.stringify(json);
    const r = await headWithoutDigestThen(
      { status: 200, headers: { 'content-type': type }, body },
      type,
    );
    const error = await registryError(r.client.getManifestDigest(`${r.host}/acme/app:latest`));
    expectNamesTheAnswer(error, r.host, type);
    expect(error.message).not.toContain(sha256(body));
  });

  it('a HEAD with a manifest type whose GET is a login page: the GET decides', async () => {
    const r = await headWithoutDigestThen({
      status: 200,
      headers: { 'content-type': DOCKER_V2 },
      body: LOGIN_PAGE,
    });
    const error = await registryError(r.client.getManifestDigest(`${r.host}/acme/app:latest`));
    expectNamesTheAnswer(error, r.host, DOCKER_V2);
  });

  it('a well-formed manifest is accepted whatever the case and parameters of its Content-Type', async () => {
    const body = JSON.stringify(IMAGE_MANIFEST);
    const r = await headWithoutDigestThen(
      {
        status: 200,
        headers: { 'content-type': 'Application/VND.OCI.Image.Manifest.v1+JSON; charset=utf-8' },
        body,
      },
      'text/plain',
    );
    expect(await r.client.getManifestDigest(`${r.host}/acme/app:latest`)).toEqual({
      digest: sha256(body),
      mediaType: OCI_MANIFEST,
    });
  });

  it('an index without its optional mediaType is accepted as what the Content-Type says', async () => {
    const body = JSON.stringify({ schemaVersion: 2, manifests: [] });
    const r = await headWithoutDigestThen(
      { status: 200, headers: { 'content-type': OCI_INDEX }, body },
      OCI_INDEX,
    );
    expect(await r.client.getManifestDigest(`${r.host}/acme/app:latest`)).toEqual({
      digest: sha256(body),
      mediaType: OCI_INDEX,
    });
  });
});

describe('the digest a HEAD answers', () => {
  const DIGEST = `sha256:${'c'.repeat(64)}`;
  const headAnswers = (digest: string) =>
    startScriptedRegistry(() => ({
      status: 200,
      headers: { 'content-type': DOCKER_V2, 'docker-content-digest': digest },
    }));

  it('is taken without a GET, whitespace around it dropped', async () => {
    const r = await headAnswers(`${DIGEST}\t `);
    expect(await r.client.getManifestDigest(`${r.host}/acme/app:latest`)).toEqual({
      digest: DIGEST,
      mediaType: DOCKER_V2,
    });
    expect(r.requests.map((q) => q.method)).toEqual(['HEAD']);
  });

  it('for a digest reference, another digest is DIGEST_MISMATCH on the HEAD', async () => {
    const asked = `sha256:${'d'.repeat(64)}`;
    const r = await headAnswers(DIGEST);
    const error = await registryError(r.client.getManifestDigest(`${r.host}/acme/app@${asked}`));
    expect(error.code).toBe('DIGEST_MISMATCH');
    expect(error.method).toBe('HEAD');
    expect(error.message).toMatch(
      new RegExp(`^\\[HEAD\\] ".+": 200 OK — the registry answered ${DIGEST} for ${asked}$`),
    );
  });
});
