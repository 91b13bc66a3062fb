/**
 * Tick benchmark (`pnpm --filter @molecule/imagewatch bench`), against the in-process fake
 * registry with bearer token auth and 20 ms latency per request:
 *
 *  1. registry requests per runtime per steady-state tick (target 1.0: one HEAD),
 *  2. tick wall time for the 9 runtimes and for 1,000 synthetic references, versus checking
 *     one by one with a fresh client (fresh token) each time — the replaced code's way,
 *  3. RSS of the real service (`dist/main.js run`) idle with 9 runtimes and with 1,000
 *     references (target < 100 MB).
 *
 * Options (env): BENCH_LATENCY_MS (20), BENCH_REFS (1000), BENCH_OLD_REFS (how many of the
 * 1,000 the slow one-by-one baseline really checks before extrapolating; default all),
 * BENCH_CONCURRENCY (IMAGE_WATCH_CONCURRENCY, default 8), BENCH_ONLY=rss (skip the tick timings).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startFakeRegistry } from '@molecule/fake-registry';
import { KNOWN_RUNTIMES } from '@molecule/registry';
import { createCredentialResolver, createRegistryClient } from '@molecule/registry-client';
import { createLogger } from '@molecule/service-kit';
import { loadConfig, type WatchTarget } from '../src/config.js';
import { tempDir } from '../test/helpers.js';
import { startService } from '../test/service.js';
import { syntheticTargets } from './synthetic-targets.js';

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const REFS = Number(process.env.BENCH_REFS ?? 1000);
const ONLY = process.env.BENCH_ONLY; // 'rss' skips the tick timings
const OLD_REFS = Math.min(REFS, Number(process.env.BENCH_OLD_REFS ?? REFS));
const USER = { username: 'bench', password: 'bench-secret' };
const appDir = fileURLToPath(new URL('..', import.meta.url));
let serviceEntry = '';

const registry = await startFakeRegistry({
  auth: 'bearer',
  users: [USER],
  tokenExpiresInSeconds: 3600,
});
for (const runtime of KNOWN_RUNTIMES)
  registry.pushRandomImage(`molecule-ai/workspace-template-${runtime}`);
for (let n = 0; n < REFS; n += 1) registry.pushRandomImage(`molecule-ai/synthetic-${n}`);
registry.setLatency(LATENCY_MS);
const { dir, cleanup } = await tempDir();

const env = {
  MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
  MOLECULE_REGISTRY_USERNAME: USER.username,
  MOLECULE_REGISTRY_PASSWORD: USER.password,
  IMAGE_WATCH_STATE_FILE: `${dir}/state.json`,
  IMAGE_WATCH_PORT: '0',
  LOG_LEVEL: 'warn',
  ...(process.env.BENCH_CONCURRENCY
    ? { IMAGE_WATCH_CONCURRENCY: process.env.BENCH_CONCURRENCY }
    : {}),
};
const config = loadConfig(env);
const logger = createLogger({ service: 'bench', level: 'warn' });
const rows: Array<[string, string]> = [];
const report = (name: string, value: string) => {
  rows.push([name, value]);
  console.log(`${name}: ${value}`);
};

async function watcherTicks(label: string, targets: readonly WatchTarget[]) {
  const service = await startService(
    { ...config, targets, stateFile: `${dir}/${label}.json` },
    { logger },
  );
  try {
    registry.clearRequests();
    let t = performance.now();
    await service.app.watcher.tick();
    const coldMs = performance.now() - t;
    const coldRequests = registry.requests.length;
    const steady: number[] = [];
    let steadyRequests = 0;
    for (let i = 0; i < 3; i += 1) {
      registry.clearRequests();
      t = performance.now();
      await service.app.watcher.tick();
      steady.push(performance.now() - t);
      steadyRequests += registry.requests.length;
    }
    const perRef = steadyRequests / 3 / targets.length;
    report(
      `${label}: first tick (ping + tokens + HEADs)`,
      `${coldMs.toFixed(0)} ms, ${coldRequests} requests`,
    );
    report(`${label}: steady tick wall time (median of 3)`, `${median(steady).toFixed(0)} ms`);
    report(`${label}: registry requests per reference per steady tick`, perRef.toFixed(2));
  } finally {
    await service.close();
  }
}

async function oneByOneFreshToken(targets: readonly WatchTarget[]) {
  registry.clearRequests();
  const t = performance.now();
  for (const target of targets) {
    // The replaced behaviour: a new token for every check, one runtime after the other.
    const client = createRegistryClient({ env, credentials: createCredentialResolver({ env }) });
    await client.getManifestDigest(target.image);
    await client.close();
  }
  const ms = performance.now() - t;
  return { ms, requests: registry.requests.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** bench/rss-service.ts bundled the way tsup bundles dist/main.js (same config, same externals). */
function bundleRssService(): string {
  const outDir = `${appDir}node_modules/.bench-dist`;
  execFileSync(
    'pnpm',
    [
      'exec',
      'tsup',
      'bench/rss-service.ts',
      '--format',
      'esm',
      '--platform',
      'node',
      '--target',
      'node20',
      '--out-dir',
      outDir,
      '--no-dts',
      '--silent',
    ],
    { cwd: appDir, stdio: 'inherit' },
  );
  const entry = `${outDir}/rss-service.js`;
  if (!existsSync(entry)) throw new Error(`bundling bench/rss-service.ts did not produce ${entry}`);
  return entry;
}

async function rssOfService(syntheticRefs: number, waitTicks: number): Promise<number> {
  const child = spawn(process.execPath, [serviceEntry], {
    env: {
      PATH: process.env.PATH ?? '',
      // BENCH_NODE_OPTIONS: V8 flags to try on the measured service (e.g. --max-semi-space-size=1).
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      ...env,
      IMAGE_WATCH_INTERVAL: '2s',
      LOG_LEVEL: 'info',
      IMAGE_WATCH_STATE_FILE: `${dir}/rss-${syntheticRefs}.json`,
      BENCH_SYNTHETIC_REFS: String(syntheticRefs),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let ticks = 0;
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.stdout.on('data', (chunk) => {
    ticks += String(chunk).split('"msg":"tick done"').length - 1;
  });
  const deadline = Date.now() + 120_000;
  while (ticks < waitTicks) {
    if (exited !== undefined)
      throw new Error(`service exited with ${exited} before ${waitTicks} ticks`);
    if (Date.now() > deadline) throw new Error('service did not tick');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  return kb / 1024;
}

try {
  console.log(
    `fake registry: bearer auth, ${LATENCY_MS} ms per request; concurrency ${config.concurrency}\n`,
  );
  if (ONLY !== 'rss') await tickBenchmarks();
  serviceEntry = bundleRssService();
  registry.setLatency(0);
  report(
    'RSS, service idle with 9 runtimes (after 3 ticks)',
    `${(await rssOfService(0, 3)).toFixed(1)} MB`,
  );
  report(
    `RSS, service watching ${REFS} refs (after 3 ticks)`,
    `${(await rssOfService(REFS, 3)).toFixed(1)} MB`,
  );
} finally {
  await registry.close();
  await cleanup();
}

async function tickBenchmarks() {
  await watcherTicks('9 runtimes', config.targets);
  await watcherTicks(`${REFS} refs`, syntheticTargets(config, REFS));

  const old9 = await oneByOneFreshToken(config.targets);
  report(
    '9 runtimes: one by one, fresh token each',
    `${old9.ms.toFixed(0)} ms, ${(old9.requests / 9).toFixed(2)} requests per runtime`,
  );
  const oldRefs = await oneByOneFreshToken(syntheticTargets(config, OLD_REFS));
  const extrapolated = OLD_REFS < REFS ? ` (measured ${OLD_REFS}, extrapolated)` : '';
  report(
    `${REFS} refs: one by one, fresh token each`,
    `${((oldRefs.ms * REFS) / OLD_REFS).toFixed(0)} ms${extrapolated}, ${(oldRefs.requests / OLD_REFS).toFixed(2)} requests per ref`,
  );
}
