/**
 * The signed-image gate on refresh (SPEC "Signed-image gate", admin-api): with `enforce` only
 * verified digests are pulled; an untrusted one is `failed` with `UNTRUSTED_IMAGE` and nothing
 * is pulled or removed. Signatures here are absent (an unsigned image); signed images are
 * proven against the real registry and engine in signatures.integration.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCosignKeyPair } from '@molecule/real-parts';
import { RegistryError } from '@molecule/registry-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newImageId } from '../helpers/fake-engine.js';
import { type Harness, startHarness } from '../helpers/harness.js';

const URL = '/admin/workspace-images/refresh';
const D1 = `sha256:${'1'.repeat(64)}`;
let dir: string;
let keys: string;
let h: Harness | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'admin-api-signatures-'));
  keys = join(dir, 'cosign.pub');
  await writeFile(keys, generateCosignKeyPair().publicKeyPem);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A registry where the tag points at D1 and no signature exists (404 for every artifact). */
function unsignedRegistry(
  tagAnswer: () => Promise<{ digest: string }> = async () => ({ digest: D1 }),
) {
  const notFound = () =>
    new RegistryError({ code: 'NOT_FOUND', hint: 'manifest unknown', status: 404 });
  const calls: string[] = [];
  return {
    calls,
    client: {
      async getManifestDigest(ref: string) {
        calls.push(`HEAD ${ref}`);
        return (await tagAnswer()) as never;
      },
      async getManifest(ref: string): Promise<never> {
        calls.push(`GET ${ref}`);
        throw notFound();
      },
      async getBlob(ref: string): Promise<never> {
        calls.push(`BLOB ${ref}`);
        throw notFound();
      },
      async getReferrers(ref: string) {
        calls.push(`REFERRERS ${ref}`);
        return undefined;
      },
    },
  };
}

async function refresh(query: string) {
  return h!.app.inject({ method: 'POST', url: `${URL}${query}`, headers: h!.auth });
}

describe('refresh with the signed-image gate', () => {
  it('enforce: an unsigned tag is failed with UNTRUSTED_IMAGE; nothing pulled or removed', async () => {
    const registry = unsignedRegistry();
    h = await startHarness(
      { MOLECULE_IMAGE_SIGNING_KEYS: keys, MOLECULE_IMAGE_SIGNATURES: 'enforce' },
      { registry: registry.client },
    );
    h.engine.addContainer('ws-a', h.image('codex'));
    const response = await refresh('?runtime=codex');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ pulled: [], failed: ['codex'], recreated: [] });
    expect(body.errors).toEqual([
      expect.objectContaining({ stage: 'trust', runtime: 'codex', code: 'UNTRUSTED_IMAGE' }),
    ]);
    expect(body.errors[0].message).toContain(D1);
    expect(registry.calls[0]).toBe(`HEAD ${h.image('codex')}`);
    expect(h.engine.requests.filter((r) => r.path === '/images/create')).toEqual([]);
    expect(h.engine.events).toEqual([]);
    expect([...h.engine.containers.values()].map((c) => c.name)).toContain('ws-a');
  });

  it('enforce: a refresh by hand to an unsigned digest is refused the same way', async () => {
    const registry = unsignedRegistry();
    h = await startHarness({ MOLECULE_IMAGE_SIGNING_KEYS: keys }, { registry: registry.client });
    h.engine.registryDigests.set(D1, newImageId());
    const response = await refresh(`?runtime=codex&digest=${D1}`);
    expect(response.json()).toMatchObject({ pulled: [], failed: ['codex'] });
    expect(response.json().errors[0].code).toBe('UNTRUSTED_IMAGE');
    // The digest asked for is verified; the tag is not read.
    expect(registry.calls.some((call) => call.startsWith('HEAD'))).toBe(false);
    expect(h.engine.requests.filter((r) => r.path === '/images/create')).toEqual([]);
  });

  it('a registry that cannot be read fails the runtime with REGISTRY_ERROR and pulls nothing', async () => {
    const registry = unsignedRegistry(async () => {
      throw new RegistryError({ code: 'UNAVAILABLE', hint: 'registry answered 503', status: 503 });
    });
    h = await startHarness({ MOLECULE_IMAGE_SIGNING_KEYS: keys }, { registry: registry.client });
    const response = await refresh('?runtime=codex');
    expect(response.json()).toMatchObject({ pulled: [], failed: ['codex'] });
    expect(response.json().errors[0].code).toBe('REGISTRY_ERROR');
    expect(h.engine.requests.filter((r) => r.path === '/images/create')).toEqual([]);
  });

  it('warn: the unsigned digest is pulled by digest and tagged as :latest', async () => {
    const registry = unsignedRegistry();
    h = await startHarness(
      { MOLECULE_IMAGE_SIGNING_KEYS: keys, MOLECULE_IMAGE_SIGNATURES: 'warn' },
      { registry: registry.client },
    );
    const id = newImageId();
    h.engine.registryDigests.set(D1, id);
    h.engine.addContainer('ws-a', h.image('codex'));
    const response = await refresh('?runtime=codex');
    expect(response.json()).toMatchObject({ pulled: ['codex'], failed: [], recreated: ['ws-a'] });
    expect(response.json().images.codex).toEqual({ id, digest: D1 });
    const pull = h.engine.requests.find((r) => r.path === '/images/create');
    expect(pull?.query.fromImage).toBe(`${h.image('codex').replace(/:latest$/, '')}@${D1}`);
    expect(h.logs.some((line) => line.includes('untrusted image (warn mode'))).toBe(true);
  });

  it('off (no keys): no registry call, the tag is pulled as before', async () => {
    const registry = unsignedRegistry();
    h = await startHarness({}, { registry: registry.client });
    await refresh('?runtime=codex&recreate=false');
    expect(registry.calls).toEqual([]);
    const pull = h.engine.requests.find((r) => r.path === '/images/create');
    expect(pull?.query).toMatchObject({ tag: 'latest' });
  });
});
