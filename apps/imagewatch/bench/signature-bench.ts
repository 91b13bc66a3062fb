/**
 * Signed-image gate benchmark (`pnpm --filter @molecule/imagewatch bench:signatures`), against
 * the real CNCF distribution registry (token auth) behind a fault proxy that adds
 * BENCH_LATENCY_MS (20) to every request. Prints numbers, asserts only that it measured what it
 * says (the verdicts and tick outcomes expected):
 *
 *  1. registry requests per runtime per tick of the in-process service with the gate enforced,
 *     nine signed runtimes: the tick that verifies nine new digests, then steady ticks (target
 *     1.0: the digest has not moved, so nothing is verified again), then ticks while nine
 *     unsigned digests wait for a signature (an untrusted verdict is not cached). Counted by the
 *     client (`imagewatch_registry_requests_total`) and at the proxy;
 *  2. time to verify a new digest in each of cosign's formats (legacy `.sig`; sigstore bundle
 *     through the referrers tag schema, after the referrers API's 404), BENCH_RUNS times each:
 *     a fresh digest and a fresh verifier every run (nothing cached), one warm client (its token
 *     fetched before the runs); p50, max and the requests each verification made. Once at
 *     BENCH_LATENCY_MS and once at 0 ms.
 *
 * Token requests go from the client to the token server directly (the registry's challenge
 * names it), not through the proxy. Images and signatures are pushed to the registry directly.
 *
 * Options (env): BENCH_LATENCY_MS (20), BENCH_RUNS (20), BENCH_STEADY_TICKS (5).
 * Needs docker-registry, openssl and busybox (SHARED REAL-PARTS.md).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSignatureVerifier } from '@molecule/image-signatures';
import {
  type BuiltImage,
  buildImage,
  type CosignKeyPair,
  type Distribution,
  type FaultProxy,
  generateCosignKeyPair,
  missingRealParts,
  pushImage,
  signImageLegacy,
  signImageWithBundles,
  startDistribution,
  startFaultProxy,
} from '@molecule/real-parts';
import { KNOWN_RUNTIMES } from '@molecule/registry';
import {
  createCredentialResolver,
  createRegistryClient,
  type RegistryRequestEvent,
} from '@molecule/registry-client';
import { createLogger } from '@molecule/service-kit';
import { type ImagewatchConfig, loadConfig } from '../src/config.js';
import type { CheckResult } from '../src/watch/watcher.js';
import { type FakeAdminApi, startFakeAdminApi } from '../test/fake-admin-api.js';
import { tempDir } from '../test/helpers.js';
import { startService, type TestService } from '../test/service.js';

type Format = 'legacy' | 'bundle';
type Signing = Format | 'unsigned';

const USER = { username: 'bench', password: 'bench-signatures-secret' };
const TOKEN = 'bench-admin-token';
const PREFIX_PATH = 'molecule-ai';

/** Before anything is started: say why and exit 2. */
function refuse(message: string): never {
  process.stderr.write(`bench:signatures: ${message}\n`);
  process.exit(2);
}

/** The bench did not measure what it says: stop (the started parts are closed) and exit 2. */
class BenchFailure extends Error {
  override name = 'BenchFailure';
}
function fail(message: string): never {
  throw new BenchFailure(message);
}

/** `process.env[name]` (else `fallback`) as an integer ≥ `min`, or exit 2. */
function option(name: string, fallback: number, min: number): number {
  const text = process.env[name] || String(fallback);
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) refuse(`${name}=${text}: want an integer ≥ ${min}`);
  return value;
}

const LATENCY_MS = option('BENCH_LATENCY_MS', 20, 0);
const RUNS = option('BENCH_RUNS', 20, 1);
const STEADY_TICKS = option('BENCH_STEADY_TICKS', 5, 1);

const missing = missingRealParts(['docker-registry', 'openssl', 'busybox']);
if (missing !== undefined) refuse(`needs the real parts: ${missing}`);

const report = (name: string, value: string) => console.log(`${name}: ${value}`);
const progress = (text: string) => process.stderr.write(`  … ${text}\n`);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const cleanups: Array<() => Promise<unknown>> = [];
try {
  const registry = await startDistribution({ auth: 'token', users: [USER] });
  cleanups.push(() => registry.close());
  const proxy = await startFaultProxy({
    upstream: registry.url,
    mode: LATENCY_MS > 0 ? 'slow' : 'pass',
    slowMs: LATENCY_MS,
  });
  cleanups.push(() => proxy.close());
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  const key = generateCosignKeyPair();
  await writeFile(join(dir, 'cosign.pub'), key.publicKeyPem);
  const admin = await startFakeAdminApi({ token: TOKEN, prefix: `${proxy.host}/${PREFIX_PATH}` });
  cleanups.push(() => admin.close());
  const config = loadConfig({
    MOLECULE_IMAGE_REGISTRY: `${proxy.host}/${PREFIX_PATH}`,
    MOLECULE_REGISTRY_USERNAME: USER.username,
    MOLECULE_REGISTRY_PASSWORD: USER.password,
    IMAGE_AUTO_REFRESH: 'true',
    MOLECULE_ADMIN_TOKEN: TOKEN,
    MOLECULE_ADMIN_API_URL: admin.url,
    IMAGE_WATCH_STATE_FILE: join(dir, 'state.json'),
    IMAGE_WATCH_INTERVAL: '1h',
    MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'cosign.pub'),
    MOLECULE_IMAGE_SIGNATURES: 'enforce',
    DOCKER_CONFIG: dir,
    LOG_LEVEL: 'error',
  });
  const bench = { registry, proxy, admin, key, config };

  console.log(
    `distribution ${registry.host} (token auth) behind a fault proxy at ${proxy.host}, ${LATENCY_MS} ms per request; gate: enforce, 1 key, threshold ${config.signatures.threshold}\n`,
  );
  await tickBenchmark(bench);
  console.log('');
  for (const latency of LATENCY_MS > 0 ? [LATENCY_MS, 0] : [0]) {
    proxy.setMode(latency > 0 ? 'slow' : 'pass');
    for (const format of ['legacy', 'bundle'] as const) {
      await verifyBenchmark(bench, format, latency);
    }
  }
} catch (error) {
  if (!(error instanceof BenchFailure)) throw error;
  process.stderr.write(`bench:signatures: ${error.message}\n`);
  process.exitCode = 2;
} finally {
  for (const undo of cleanups.reverse()) await undo().catch(() => undefined);
}

interface Bench {
  readonly registry: Distribution;
  readonly proxy: FaultProxy;
  readonly admin: FakeAdminApi;
  readonly key: CosignKeyPair;
  readonly config: ImagewatchConfig;
}

/** Every request that reached the proxy, whatever mode it got. */
function proxied(proxy: FaultProxy): number {
  return Object.values(proxy.requests).reduce((sum, n) => sum + n, 0);
}

/** A new image pushed as `latest` of `repository`, signed by `key` in `signing` (or not). */
async function publish(bench: Bench, repository: string, signing: Signing): Promise<BuiltImage> {
  const image = await buildImage();
  const target = { registryUrl: bench.registry.url, repository, credentials: USER };
  await pushImage({ ...target, tag: 'latest', image });
  if (signing === 'legacy') {
    await signImageLegacy({ ...target, digest: image.digest, keys: [bench.key] });
  } else if (signing === 'bundle') {
    const { mediaType, body } = image.manifest;
    await signImageWithBundles({
      ...target,
      subject: { digest: image.digest, mediaType, size: body.length },
      keys: [bench.key],
    });
  }
  return image;
}

/** `imagewatch_registry_requests_total`, summed over hosts and statuses, by kind. */
async function clientRequests(service: TestService): Promise<Map<string, number>> {
  const text = await service.metrics.registry.metrics();
  const byKind = new Map<string, number>();
  for (const [, labels, value] of text.matchAll(
    /^imagewatch_registry_requests_total\{([^}]*)\} (\d+)$/gm,
  )) {
    const kind = /kind="([^"]*)"/.exec(labels ?? '')?.[1] ?? '?';
    byKind.set(kind, (byKind.get(kind) ?? 0) + Number(value));
  }
  return byKind;
}

async function tickBenchmark(bench: Bench): Promise<void> {
  const runtimes = KNOWN_RUNTIMES.length;
  const repository = (runtime: string) => `${PREFIX_PATH}/workspace-template-${runtime}`;
  const publishAll = async (signing: Signing) => {
    for (const runtime of KNOWN_RUNTIMES) await publish(bench, repository(runtime), signing);
  };
  progress(`pushing ${runtimes} signed runtimes`);
  await publishAll('legacy');
  const logger = createLogger({ service: 'bench', level: 'error' });
  const service = await startService(bench.config, { logger });
  cleanups.push(() => service.close({ graceMs: 1_000 }));

  /** `ticks` ticks, each expected to end every check in `outcome`; requests per runtime per tick. */
  async function ticks(label: string, count: number, outcome: CheckResult['outcome']) {
    const before = await clientRequests(service);
    const proxyBefore = proxied(bench.proxy);
    const durations: number[] = [];
    for (let n = 0; n < count; n += 1) {
      const started = performance.now();
      const tick = await service.app.watcher.tick();
      durations.push(performance.now() - started);
      const wrong = tick.results.filter((result) => result.outcome !== outcome);
      if (tick.results.length !== runtimes || wrong.length > 0) {
        fail(`${label}: expected ${runtimes} × ${outcome}, got ${JSON.stringify(wrong)}`);
      }
    }
    const after = await clientRequests(service);
    const kinds = [...after]
      .map(([kind, total]) => [kind, total - (before.get(kind) ?? 0)] as const)
      .filter(([, delta]) => delta > 0)
      .map(([kind, delta]) => `${kind} ${(delta / count / runtimes).toFixed(2)}`);
    const client = [...after.values()].reduce((s, n) => s + n, 0);
    const clientBefore = [...before.values()].reduce((s, n) => s + n, 0);
    const perRuntime = (n: number) => (n / count / runtimes).toFixed(2);
    report(
      `${label}: registry requests per runtime per tick`,
      `${perRuntime(client - clientBefore)} by the client (${kinds.join(', ') || 'none'}), ${perRuntime(proxied(bench.proxy) - proxyBefore)} at the proxy; tick p50 ${percentile(durations, 50).toFixed(0)} ms (${count} tick${count === 1 ? '' : 's'})`,
    );
  }

  await ticks(`${runtimes} runtimes, first sight`, 1, 'seeded');
  await publishAll('legacy');
  await ticks(`${runtimes} runtimes, each moved to a new signed digest (verified)`, 1, 'changed');
  await service.rolloutsSettled();
  const refreshed = bench.admin.refreshes.length;
  if (refreshed !== runtimes) fail(`expected ${runtimes} refreshes, got ${refreshed}`);
  await ticks(
    `${runtimes} signed runtimes, steady (gate enforce; target 1.00)`,
    STEADY_TICKS,
    'unchanged',
  );
  await publishAll('unsigned');
  await ticks(
    `${runtimes} runtimes moved to unsigned digests, waiting for a signature`,
    STEADY_TICKS,
    'untrusted',
  );
  if (bench.admin.refreshes.length !== refreshed) fail('an unsigned digest was refreshed');
  await service.close({ graceMs: 1_000 });
}

/** `METHOD kind status`, with the tag or `@digest` the path ends in shortened. */
function describeRequest(event: RegistryRequestEvent): string {
  const last = event.path.split('/').at(-1) ?? '';
  const what = last.startsWith('sha256:')
    ? `${last.slice(0, 13)}…`
    : last.replace(/^(sha256-.{6}).*?((\.sig)?)$/, '$1…$2');
  return `${event.method} ${event.kind} ${what} ${event.status ?? 'error'}`;
}

async function verifyBenchmark(bench: Bench, format: Format, latency: number): Promise<void> {
  const events: RegistryRequestEvent[] = [];
  const client = createRegistryClient({
    settings: bench.config.registry,
    credentials: createCredentialResolver({ settings: bench.config.registry }),
    onRequest: (event) => events.push(event),
  });
  const repository = `${PREFIX_PATH}/verify-${format}-${latency}ms`;
  try {
    // The pull token of the repository first: every run then measures the verification alone.
    await publish(bench, repository, format);
    await client.getManifestDigest(`${bench.proxy.host}/${repository}:latest`);
    progress(`${RUNS} × ${format} at ${latency} ms`);
    const durations: number[] = [];
    const clientCounts: number[] = [];
    const proxyCounts: number[] = [];
    let sequence: string[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const image = await publish(bench, repository, format);
      const verifier = createSignatureVerifier({ client, policy: bench.config.signatures });
      const seen = events.length;
      const proxyBefore = proxied(bench.proxy);
      const started = performance.now();
      const verdict = await verifier.verify(`${bench.proxy.host}/${repository}`, image.digest);
      durations.push(performance.now() - started);
      proxyCounts.push(proxied(bench.proxy) - proxyBefore);
      const made = events.slice(seen);
      clientCounts.push(made.length);
      if (verdict.status !== 'trusted') fail(`${format} run ${run}: ${JSON.stringify(verdict)}`);
      if (run === 0) sequence = made.map(describeRequest);
    }
    const spread = (values: number[]) => {
      const low = Math.min(...values);
      const high = Math.max(...values);
      return low === high ? String(low) : `${low}–${high}`;
    };
    report(
      `verify a new digest, ${format === 'legacy' ? 'legacy .sig' : 'sigstore bundle (referrers tag schema)'}, ${latency} ms per request`,
      `p50 ${percentile(durations, 50).toFixed(1)} ms, max ${Math.max(...durations).toFixed(1)} ms (n=${RUNS}); ${spread(clientCounts)} requests by the client, ${spread(proxyCounts)} at the proxy`,
    );
    if (latency === LATENCY_MS) {
      report(
        `  requests of one ${format} verification (in order of completion)`,
        sequence.join(', '),
      );
    }
  } finally {
    await client.close();
  }
}
