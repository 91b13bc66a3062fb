/**
 * Push-to-refresh latency (`pnpm --filter @molecule/imagewatch bench:hooks`): the real
 * distribution registry (token auth) notifies imagewatch (`POST /hooks/registry`, bearer),
 * polling is set to an hour. For each of BENCH_PUSHES (20) pushes of a new `latest`, the time
 * from `pushImage` resolving (the manifest PUT answered) to the fake admin-api receiving the
 * refresh call. Distribution delivers notifications from its own queue, asynchronously: that
 * delay is part of what is measured, and reported on its own (push → hook received).
 *
 * Needs docker-registry, openssl and busybox-static (see @molecule/real-parts).
 */
import { missingRealParts } from '@molecule/real-parts';
import { hooksSettled, memoryLogger, waitFor } from '../test/helpers.js';
import { startPushHookRig } from '../test/hooks/push-hook-rig.js';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 20);
const TIMEOUT_MS = 10_000;

const missing = missingRealParts(['docker-registry', 'openssl', 'busybox']);
if (missing !== undefined) {
  process.stderr.write(`bench:hooks needs the real registry: ${missing}\n`);
  process.exit(2);
}

const log = memoryLogger('info');
const rig = await startPushHookRig({ logger: log.logger });

/** When imagewatch logged that it accepted a push notification (after `since`). */
function hookReceivedAfter(since: number): number | undefined {
  const times = log
    .lines()
    .filter((line) => line.msg === 'registry hook: push noticed, checking now')
    .map((line) => Date.parse(String(line.time)))
    .filter((time) => time >= since);
  return times.length === 0 ? undefined : Math.min(...times);
}

function percentile(sorted: readonly number[], p: number): number {
  // Nearest rank: with 20 samples p99 is the maximum.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

const summarize = (name: string, values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const fmt = (v: number) => `${v.toFixed(0)} ms`;
  return `${name.padEnd(34)} p50 ${fmt(percentile(sorted, 50)).padStart(7)}  p90 ${fmt(percentile(sorted, 90)).padStart(7)}  p99 ${fmt(percentile(sorted, 99)).padStart(7)}  max ${fmt(sorted.at(-1)!).padStart(7)}`;
};

try {
  const { admin, service } = rig;
  // Seed: the first push is a first sight (no local image): recorded, not refreshed.
  const seeded = await rig.push(`seed-${Date.now()}`);
  await waitFor(
    async () => (await service.store.seenDigest(rig.image))?.digest === seeded,
    TIMEOUT_MS,
  );

  const total: number[] = [];
  const delivery: number[] = [];
  const checkAndRefresh: number[] = [];
  for (let n = 0; n < PUSHES; n += 1) {
    const before = admin.refreshes.length;
    const pushStarted = Date.now();
    const digest = await rig.push(`push-${n}-${Date.now()}`);
    const pushedAt = Date.now();
    await waitFor(() => admin.refreshes.length > before, TIMEOUT_MS, 1);
    const refreshAt = admin.refreshes[before]!.at;
    await hooksSettled(service.metrics);
    if ((await service.store.seenDigest(rig.image))?.digest !== digest)
      throw new Error(`push ${n}: not recorded`);
    const hookAt = hookReceivedAfter(pushStarted) ?? Number.NaN;
    total.push(refreshAt - pushedAt);
    delivery.push(hookAt - pushedAt);
    checkAndRefresh.push(refreshAt - hookAt);
  }
  // Give late deliveries (retries) a moment: they must not cause extra refreshes.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await hooksSettled(service.metrics);

  const metrics = await service.metrics.registry.metrics();
  const hookLines = metrics
    .split('\n')
    .filter((line) => line.startsWith('imagewatch_hook_events_total{'));
  process.stdout.write(
    [
      `push → refresh over ${PUSHES} pushes (real distribution 2.8, token auth, notifications → imagewatch, IMAGE_WATCH_INTERVAL=1h)`,
      summarize('push answered → refresh call', total),
      summarize('  push answered → hook received', delivery),
      summarize('  hook received → refresh call', checkAndRefresh),
      `refresh calls: ${admin.refreshes.length} for ${PUSHES} pushes (+1 seed push, not refreshed)`,
      ...hookLines,
      '',
    ].join('\n'),
  );
  if (admin.refreshes.length !== PUSHES) process.exitCode = 1;
} finally {
  await rig.close();
}
