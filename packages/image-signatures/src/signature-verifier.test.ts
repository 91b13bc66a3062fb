import { describe, expect, it } from 'vitest';
import { createSignatureVerifier } from './signature-verifier.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

/** A registry that holds no signatures, counting what it is asked. */
function emptyRegistry() {
  const calls: string[] = [];
  const notFound = () =>
    Object.assign(new Error('not found'), {
      code: 'NOT_FOUND',
      [Symbol.for('@molecule/registry-client.RegistryError')]: true,
    });
  return {
    calls,
    async getManifest(ref: string) {
      calls.push(`manifest ${ref}`);
      throw notFound();
    },
    async getBlob(ref: string) {
      calls.push(`blob ${ref}`);
      throw notFound();
    },
    async getReferrers(ref: string) {
      calls.push(`referrers ${ref}`);
      return undefined;
    },
  };
}

describe('createSignatureVerifier', () => {
  it('does not cache an unsigned verdict: a later signature is found on the next check', async () => {
    const registry = emptyRegistry();
    const verifier = createSignatureVerifier({
      client: registry,
      policy: { mode: 'enforce', keys: [], threshold: 1 },
    });
    const first = await verifier.verify('registry.example.com/acme/app', DIGEST);
    expect(first).toMatchObject({ status: 'unsigned', reason: 'NO_SIGNATURE' });
    const asked = registry.calls.length;
    expect(asked).toBeGreaterThan(0);
    await verifier.verify('registry.example.com/acme/app', DIGEST);
    // Every artifact is looked for again, but the referrers API that answered 404 is not.
    expect(registry.calls.length).toBe(asked * 2 - 1);
    expect(registry.calls.filter((call) => call.startsWith('referrers'))).toHaveLength(1);
  });

  it('a registry without the referrers API is not asked it again, for any repository of that host', async () => {
    const registry = emptyRegistry();
    const verifier = createSignatureVerifier({
      client: registry,
      policy: { mode: 'enforce', keys: [], threshold: 1 },
    });
    await verifier.verify('registry.example.com/acme/app', DIGEST);
    await verifier.verify('registry.example.com/acme/other', `sha256:${'b'.repeat(64)}`);
    await verifier.verify('mirror.example.com/acme/app', DIGEST);
    expect(registry.calls.filter((call) => call.startsWith('referrers'))).toEqual([
      `referrers registry.example.com/acme/app@${DIGEST}`,
      `referrers mirror.example.com/acme/app@${DIGEST}`,
    ]);
    // The referrers tag schema is still read for each.
    expect(
      registry.calls.filter((call) => call.includes(':sha256-') && !call.endsWith('.sig')),
    ).toHaveLength(3);
  });

  it('a registry whose referrers API answers is asked it every time', async () => {
    const registry = emptyRegistry();
    const emptyIndex = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [],
      }),
    );
    registry.getReferrers = async (ref: string) => {
      registry.calls.push(`referrers ${ref}`);
      return emptyIndex as never;
    };
    const verifier = createSignatureVerifier({
      client: registry,
      policy: { mode: 'enforce', keys: [], threshold: 1 },
    });
    await verifier.verify('registry.example.com/acme/app', DIGEST);
    await verifier.verify('registry.example.com/acme/app', DIGEST);
    expect(registry.calls.filter((call) => call.startsWith('referrers'))).toHaveLength(2);
  });
});
