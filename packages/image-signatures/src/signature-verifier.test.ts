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
    expect(registry.calls.length).toBe(asked * 2);
  });
});
