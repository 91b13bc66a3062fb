import { ImageReferenceError } from '@molecule/registry';
import { type RegistryClient, RegistryError } from '@molecule/registry-client';
import { describe, expect, it } from 'vitest';
import { createRegistrySignatureSource } from './registry-signature-source.js';

const REPO = 'registry.example.com/molecule-ai/workspace-template-langgraph';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const MANIFEST = {
  digest: DIGEST,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  body: Buffer.from('{}'),
};

type Client = Pick<RegistryClient, 'getManifest' | 'getBlob' | 'getReferrers'>;

/** A client whose every call is recorded and answered by `answer` (a value, or an error to throw). */
function stubClient(answer: (call: string) => unknown) {
  const calls: Array<{ call: string; ref: string; options: unknown }> = [];
  const respond = (call: string) => async (ref: string, options?: unknown) => {
    calls.push({ call, ref, options });
    const value = answer(call);
    if (value instanceof Error) throw value;
    return value;
  };
  const client = {
    getManifest: respond('getManifest'),
    getBlob: respond('getBlob'),
    getReferrers: respond('getReferrers'),
  } as unknown as Client;
  return { client, calls };
}

describe('createRegistrySignatureSource', () => {
  it('names tags and digests in the one repository, passing accept, maxBytes and signal', async () => {
    const { client, calls } = stubClient((call) =>
      call === 'getManifest' ? MANIFEST : call === 'getBlob' ? Buffer.from('blob') : undefined,
    );
    const source = createRegistrySignatureSource(client, REPO);
    const signal = new AbortController().signal;
    const accept = ['application/vnd.oci.image.index.v1+json'];
    expect(await source.getManifest('sha256-ab.sig', { accept, signal })).toBe(MANIFEST);
    await source.getManifest(DIGEST, { accept });
    expect((await source.getBlob(DIGEST, { maxBytes: 10, signal })).toString()).toBe('blob');
    expect(await source.getReferrers(DIGEST, {})).toBeUndefined();
    expect(calls).toEqual([
      { call: 'getManifest', ref: `${REPO}:sha256-ab.sig`, options: { accept, signal } },
      { call: 'getManifest', ref: `${REPO}@${DIGEST}`, options: { accept } },
      { call: 'getBlob', ref: `${REPO}@${DIGEST}`, options: { maxBytes: 10, signal } },
      { call: 'getReferrers', ref: `${REPO}@${DIGEST}`, options: {} },
    ]);
  });

  it('a manifest the registry does not have (NOT_FOUND) is undefined', async () => {
    const notFound = new RegistryError({
      code: 'NOT_FOUND',
      status: 404,
      hint: 'manifest unknown',
    });
    const { client } = stubClient(() => notFound);
    const source = createRegistrySignatureSource(client, REPO);
    expect(await source.getManifest('sha256-ab.sig', { accept: [] })).toBeUndefined();
    // Only manifests: a missing blob is a broken signature artifact, not "no signature".
    await expect(source.getBlob(DIGEST, { maxBytes: 10 })).rejects.toBe(notFound);
  });

  it.each([
    ['UNAUTHORIZED', new RegistryError({ code: 'UNAUTHORIZED', status: 401, hint: 'refused' })],
    ['BAD_RESPONSE', new RegistryError({ code: 'BAD_RESPONSE', status: 200, hint: 'text/html' })],
    ['a lookalike with code NOT_FOUND', Object.assign(new Error('404'), { code: 'NOT_FOUND' })],
    ['an abort', new DOMException('stop', 'AbortError')],
  ])('any other failure (%s) is thrown unchanged', async (_what, error) => {
    const { client } = stubClient(() => error);
    const source = createRegistrySignatureSource(client, REPO);
    await expect(source.getManifest('sha256-ab.sig', { accept: [] })).rejects.toBe(error);
    await expect(source.getReferrers(DIGEST, {})).rejects.toBe(error);
  });

  it('refuses a repository with a tag or digest, or that is not a reference', () => {
    const { client } = stubClient(() => undefined);
    for (const repository of [`${REPO}:latest`, `${REPO}@${DIGEST}`, 'Not A Repo']) {
      expect(() => createRegistrySignatureSource(client, repository)).toThrow(ImageReferenceError);
    }
  });
});
