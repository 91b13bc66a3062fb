import type { SignatureVerifier, TrustVerdict } from '@molecule/image-signatures';
import { runtimeImage } from '@molecule/registry';
import { RegistryError } from '@molecule/registry-client';
import { memoryLogger } from '@molecule/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import type { RefreshEvent } from '../../src/refresh/events.js';
import { runTrustStep } from '../../src/refresh/trust-step.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const env = { MOLECULE_IMAGE_REGISTRY: 'mirror.example.test/acme' };

function verifierSaying(
  mode: 'enforce' | 'warn' | 'off',
  verdicts: Record<string, TrustVerdict>,
): SignatureVerifier & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    policy: { mode, keys: [], threshold: 1 },
    async verify(repository, digest) {
      asked.push(`${repository}@${digest}`);
      const verdict = verdicts[digest];
      if (verdict === undefined) throw new Error(`unexpected digest ${digest}`);
      return verdict;
    },
  };
}

const trusted: TrustVerdict = {
  status: 'trusted',
  digest: D1,
  signers: ['sha256:k1'],
  formats: ['simple-signing'],
};
const unsigned: TrustVerdict = {
  status: 'unsigned',
  digest: D2,
  reason: 'NO_SIGNATURE',
  detail: 'no signature found',
};

function setup(
  verifier: SignatureVerifier | undefined,
  tagDigests: Record<string, string | RegistryError>,
) {
  const metrics = createMetrics({ defaultMetrics: false });
  const events: RefreshEvent[] = [];
  const resolved: string[] = [];
  const registry = {
    async getManifestDigest(ref: string) {
      resolved.push(ref);
      const answer = tagDigests[ref];
      if (answer instanceof RegistryError) throw answer;
      if (answer === undefined) throw new Error(`unexpected reference ${ref}`);
      return { digest: answer } as never;
    },
  };
  const options = {
    verifier,
    registry,
    env,
    metrics,
    logger: memoryLogger().logger,
    signal: new AbortController().signal,
    emit: (event: RefreshEvent) => events.push(event),
  };
  return { options, events, resolved, metrics };
}

const image = (runtime: 'codex' | 'langgraph') => runtimeImage(runtime, env) as string;

describe('runTrustStep', () => {
  it('off: pins only the digest asked for and reads nothing', async () => {
    const { options, resolved } = setup(undefined, {});
    const result = await runTrustStep(['codex'], D1, options);
    expect([...result.pins]).toEqual([['codex', D1]]);
    expect(result.refused).toEqual([]);
    expect(resolved).toEqual([]);
    const none = await runTrustStep(['codex'], undefined, options);
    expect(none.pins.size).toBe(0);
  });

  it('enforce: resolves the tag, pins a trusted digest and refuses an unsigned one', async () => {
    const verifier = verifierSaying('enforce', { [D1]: trusted, [D2]: unsigned });
    const { options, events, resolved, metrics } = setup(verifier, {
      [image('codex')]: D1,
      [image('langgraph')]: D2,
    });
    const result = await runTrustStep(['codex', 'langgraph'], undefined, options);
    expect(resolved.sort()).toEqual([image('codex'), image('langgraph')]);
    expect(verifier.asked.sort()).toEqual([
      `mirror.example.test/acme/workspace-template-codex@${D1}`,
      `mirror.example.test/acme/workspace-template-langgraph@${D2}`,
    ]);
    expect([...result.pins]).toEqual([['codex', D1]]);
    expect(result.refused).toEqual([
      expect.objectContaining({ stage: 'trust', runtime: 'langgraph', code: 'UNTRUSTED_IMAGE' }),
    ]);
    expect(result.refused[0]!.message).toContain(D2);
    expect(events).toContainEqual(
      expect.objectContaining({
        event: 'pull-failed',
        runtime: 'langgraph',
        code: 'UNTRUSTED_IMAGE',
      }),
    );
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /admin_api_signature_verifications_total\{outcome="trusted",reason="OK"\} 1/,
    );
    expect(text).toMatch(
      /admin_api_signature_verifications_total\{outcome="unsigned",reason="NO_SIGNATURE"\} 1/,
    );
  });

  it('enforce: a requested digest is verified as asked, without reading the tag', async () => {
    const verifier = verifierSaying('enforce', { [D2]: unsigned });
    const { options, resolved } = setup(verifier, {});
    const result = await runTrustStep(['codex'], D2, options);
    expect(resolved).toEqual([]);
    expect(result.pins.size).toBe(0);
    expect(result.refused.map((error) => error.code)).toEqual(['UNTRUSTED_IMAGE']);
  });

  it('warn: an unsigned digest is pinned and pulled anyway', async () => {
    const verifier = verifierSaying('warn', { [D2]: unsigned });
    const { options } = setup(verifier, { [image('codex')]: D2 });
    const result = await runTrustStep(['codex'], undefined, options);
    expect([...result.pins]).toEqual([['codex', D2]]);
    expect(result.refused).toEqual([]);
  });

  it('a registry that cannot be read refuses that runtime with REGISTRY_ERROR (not a verdict)', async () => {
    const verifier = verifierSaying('enforce', { [D1]: trusted });
    const { options } = setup(verifier, {
      [image('codex')]: new RegistryError({
        code: 'UNAVAILABLE',
        hint: 'registry answered 503',
        host: 'mirror.example.test',
        status: 503,
      }),
      [image('langgraph')]: D1,
    });
    const result = await runTrustStep(['codex', 'langgraph'], undefined, options);
    expect([...result.pins]).toEqual([['langgraph', D1]]);
    expect(result.refused).toEqual([
      expect.objectContaining({ runtime: 'codex', code: 'REGISTRY_ERROR' }),
    ]);
  });
});
