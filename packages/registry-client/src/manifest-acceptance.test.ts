import { describe, expect, it } from 'vitest';
import { isRegistryError, type RegistryError } from './errors.js';
import {
  acceptedMediaType,
  requireManifestBody,
  requireManifestType,
} from './manifest-acceptance.js';
import { MANIFEST_MEDIA_TYPES } from './media-types.js';
import type { TransportResponse } from './transport.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const URL_ = 'http://registry.test/v2/acme/app/manifests/latest';

function answer(contentType: string | undefined, body = ''): TransportResponse {
  return {
    status: 200,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: Buffer.from(body),
    url: new URL(URL_),
    retryAfterMs: undefined,
  };
}

function refusal(run: () => unknown): RegistryError {
  try {
    run();
  } catch (error) {
    if (isRegistryError(error)) return error;
    throw error;
  }
  throw new Error('expected BAD_RESPONSE');
}

/** The hint: the message after `[GET] "<url>": 200 OK — `. */
function hintOf(error: RegistryError): string {
  const head = `[GET] "${URL_}": 200 OK — `;
  expect(error.message.startsWith(head)).toBe(true);
  return error.message.slice(head.length);
}

describe('acceptedMediaType', () => {
  it('is the manifest type when it is one of those asked for', () => {
    expect(acceptedMediaType(answer(`${OCI_INDEX}; charset=utf-8`), [OCI_INDEX])).toBe(OCI_INDEX);
    expect(acceptedMediaType(answer(OCI_INDEX), [OCI_MANIFEST])).toBeUndefined();
    expect(acceptedMediaType(answer('text/html'), MANIFEST_MEDIA_TYPES)).toBeUndefined();
  });
});

describe('requireManifestType', () => {
  it('names what came back and every type asked for', () => {
    const error = refusal(() =>
      requireManifestType(answer('text/html'), 'GET', [OCI_MANIFEST, DOCKER_V2]),
    );
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', host: 'registry.test', status: 200 });
    expect(hintOf(error)).toBe(
      `answered Content-Type text/html, not ${OCI_MANIFEST} or ${DOCKER_V2}; a login page, captive portal or proxy may be answering for the registry — check the registry address and the network path`,
    );
  });

  it('says so when there is no Content-Type', () => {
    const error = refusal(() => requireManifestType(answer(undefined), 'GET', [OCI_MANIFEST]));
    expect(hintOf(error)).toMatch(/^answered no Content-Type, not /);
  });
});

describe('requireManifestBody', () => {
  it('accepts a body of the kind its type says', () => {
    const image = { schemaVersion: 2, config: {}, layers: [] };
    expect(() =>
      requireManifestBody(answer(OCI_MANIFEST, JSON.stringify(image)), 'GET', OCI_MANIFEST),
    ).not.toThrow();
    expect(() =>
      requireManifestBody(
        answer(OCI_INDEX, JSON.stringify({ schemaVersion: 2, manifests: [] })),
        'GET',
        OCI_INDEX,
      ),
    ).not.toThrow();
  });

  it('says a body that is not JSON is not JSON', () => {
    const error = refusal(() => requireManifestBody(answer(DOCKER_V2, '<html>'), 'GET', DOCKER_V2));
    expect(hintOf(error)).toBe(
      `answered Content-Type ${DOCKER_V2} with a body that is not JSON; a proxy may be rewriting registry answers`,
    );
  });

  it('names the field that is wrong in an image manifest', () => {
    const body = JSON.stringify({ schemaVersion: 2, config: {} });
    const error = refusal(() =>
      requireManifestBody(answer(OCI_MANIFEST, body), 'GET', OCI_MANIFEST),
    );
    expect(hintOf(error)).toMatch(
      new RegExp(
        `^answered Content-Type ${OCI_MANIFEST.replace(/[.+]/g, '\\$&')} with a body that is not an image manifest \\(layers: Invalid input: expected array, received undefined\\); a proxy may be rewriting registry answers$`,
      ),
    );
  });

  it('says "index" for an index type, and gives zod\'s reason without a field for a body that is no object', () => {
    const error = refusal(() => requireManifestBody(answer(OCI_INDEX, '[]'), 'GET', OCI_INDEX));
    expect(hintOf(error)).toMatch(
      /with a body that is not an index \(Invalid input: expected object, received array\);/,
    );
  });

  it('names the mediaType inside a body that contradicts its Content-Type', () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_V2, config: {}, layers: [] });
    const error = refusal(() =>
      requireManifestBody(answer(OCI_MANIFEST, body), 'GET', OCI_MANIFEST),
    );
    expect(hintOf(error)).toBe(
      `answered Content-Type ${OCI_MANIFEST} with a body whose mediaType is "${DOCKER_V2}"; the registry or a proxy mixed up manifests`,
    );
  });

  it('compares the inner mediaType without parameters or case', () => {
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: `${OCI_MANIFEST.toUpperCase()}; x=y`,
      config: {},
      layers: [],
    });
    expect(() =>
      requireManifestBody(answer(OCI_MANIFEST, body), 'GET', OCI_MANIFEST),
    ).not.toThrow();
  });
});
