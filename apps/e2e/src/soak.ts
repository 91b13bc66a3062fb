/**
 * The bounded soak (`scripts/soak`, SOAK_MINUTES, default 10): imagewatch at 1 s ticks against
 * the real distribution registry (token auth) behind a fault proxy cycling 503s, resets, hangs,
 * 429 with Retry-After and 200-with-HTML between healthy stretches, with admin-api on a private
 * dockerd; both services are the built bins, configured by environment only. The registry's
 * digests never change during the soak, so every digest change imagewatch reports is false.
 *
 * It samples both services' RSS and open file descriptors every 5 s and ends with exactly:
 *   soak: minutes=<m> ticks=<n> rss_start_mb=<a> rss_end_mb=<b> rss_growth_pct=<p> fds_start=<x> fds_end=<y> overlaps=<o> stuck=<s> false_changes=<f>
 * RSS and fds are imagewatch's plus admin-api's; start = after the first minute (or the first
 * sample when the soak is shorter); stuck = ticks longer than 3 × the interval plus the registry
 * client's request timeout (60 s); overlaps = ticks that began before the previous one ended.
 * Exit 0 when every target holds (growth ≤ 10 %, fds not growing, 0 overlaps, 0 stuck, 0 false
 * changes), else 1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FaultStep,
  getFreePort,
  startDistribution,
  startDockerd,
  startFaultProxy,
} from '@molecule/real-parts';
import { distributionPublisher } from './image-publisher.js';
import { sharedEnvironment, startHealthyService } from './service-launch.js';
import type { LogLine, ServiceProcess } from './service-process.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const INTERVAL_MS = 1_000;
const REQUEST_TIMEOUT_MS = 60_000;
const SAMPLE_MS = 5_000;
const RUNTIMES = ['codex', 'langgraph', 'hermes'] as const;
/**
 * A 110 s cycle: every fault the registry can throw at us, healthy stretches between them, and
 * the hang last, followed by a stretch longer than the registry client's request timeout (a
 * hung request holds only its own reference's check until then; ticks skip it meanwhile).
 */
const SCHEDULE: readonly FaultStep[] = [
  { mode: 'pass', ms: 6_000 },
  { mode: 'status-503', ms: 4_000 },
  { mode: 'pass', ms: 4_000 },
  { mode: 'reset', ms: 4_000 },
  { mode: 'pass', ms: 4_000 },
  { mode: 'rate-limit', ms: 4_000 },
  { mode: 'pass', ms: 6_000 },
  { mode: 'html', ms: 4_000 },
  { mode: 'pass', ms: 4_000 },
  { mode: 'hang', ms: 4_000 },
  { mode: 'pass', ms: 66_000 },
];

const say = (text: string) => process.stderr.write(`[soak] ${text}\n`);

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
  return kb / 1024;
}
async function fds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

interface Sample {
  readonly at: number;
  readonly rssMb: number;
  readonly fds: number;
}

async function main(): Promise<number> {
  const password = randomBytes(12).toString('hex');
  const adminToken = randomBytes(16).toString('hex');
  const workDir = await mkdtemp(join(tmpdir(), 'soak-'));
  const closers: Array<() => Promise<unknown>> = [
    () => rm(workDir, { recursive: true, force: true }),
  ];
  try {
    const distribution = await startDistribution({
      auth: 'token',
      users: [{ username: 'soak', password }],
      allowAnonymousPull: false,
    });
    closers.push(() => distribution.close());
    const publisher = distributionPublisher(distribution, 'soak', { username: 'soak', password });
    for (const runtime of RUNTIMES) await publisher.publish(runtime, 'v1');
    const proxy = await startFaultProxy({
      upstream: distribution.url,
      schedule: SCHEDULE,
      retryAfterSeconds: 2,
    });
    closers.push(() => proxy.close());
    const engine = await startDockerd({ insecureRegistries: [proxy.host] });
    closers.push(() => engine.close());

    const env = await sharedEnvironment({
      prefix: `${proxy.host}/soak`,
      adminToken,
      workDir,
      credentials: { username: 'soak', password },
    });
    const adminPort = await getFreePort();
    const adminApi = await startHealthyService(
      'admin-api',
      {
        env: {
          ...env,
          LOG_LEVEL: 'warn',
          ADMIN_API_PORT: String(adminPort),
          DOCKER_HOST: engine.dockerHost,
          ADMIN_API_PULL_TIMEOUT: '20s',
        },
      },
      `http://127.0.0.1:${adminPort}/healthz`,
    );
    closers.push(() => adminApi.stop());
    const watchPort = await getFreePort();
    const imagewatch: ServiceProcess = await startHealthyService(
      'imagewatch',
      {
        args: ['run'],
        env: {
          ...env,
          IMAGE_WATCH_INTERVAL: `${INTERVAL_MS}ms`,
          IMAGE_AUTO_REFRESH: 'true',
          IMAGE_WATCH_RUNTIMES: RUNTIMES.join(','),
          MOLECULE_ADMIN_API_URL: `http://127.0.0.1:${adminPort}`,
          IMAGE_WATCH_STATE_FILE: join(workDir, 'state.json'),
          IMAGE_WATCH_PORT: String(watchPort),
        },
      },
      `http://127.0.0.1:${watchPort}/healthz`,
    );
    closers.push(() => imagewatch.stop());
    say(
      `registry ${distribution.host} behind the fault proxy ${proxy.host} (a ${SCHEDULE.reduce((t, s) => t + s.ms, 0) / 1000} s cycle); ${MINUTES} min at ${INTERVAL_MS} ms ticks`,
    );

    const started = Date.now();
    const samples: Sample[] = [];
    const sample = async () => {
      const [a, b, c, d] = await Promise.all([
        rssMb(imagewatch.pid),
        rssMb(adminApi.pid),
        fds(imagewatch.pid),
        fds(adminApi.pid),
      ]);
      samples.push({ at: Date.now() - started, rssMb: a + b, fds: c + d });
    };
    const end = started + MINUTES * 60_000;
    let nextReport = started + 60_000;
    while (Date.now() < end) {
      await sample();
      if (Date.now() >= nextReport) {
        const last = samples.at(-1)!;
        say(
          `${Math.round((Date.now() - started) / 60_000)} min: rss ${last.rssMb.toFixed(1)} MB, fds ${last.fds}, ticks ${ticks(imagewatch.lines).length}`,
        );
        nextReport += 60_000;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(SAMPLE_MS, end - Date.now())));
    }
    await sample();

    const done = ticks(imagewatch.lines);
    let overlaps = 0;
    for (let n = 1; n < done.length; n += 1) {
      if (done[n]!.start < done[n - 1]!.end) overlaps += 1;
    }
    const stuck = done.filter((t) => t.durationMs > 3 * INTERVAL_MS + REQUEST_TIMEOUT_MS).length;
    const falseChanges = imagewatch.lines.filter(
      (line) => typeof line.msg === 'string' && line.msg.startsWith('digest changed'),
    ).length;
    const first = samples.find((s) => s.at >= 60_000) ?? samples[0]!;
    const last = samples.at(-1)!;
    const growth = ((last.rssMb - first.rssMb) / first.rssMb) * 100;
    const faults = Object.entries(proxy.requests)
      .map(([mode, count]) => `${mode}=${count}`)
      .join(' ');
    say(`fault proxy requests by mode: ${faults}`);
    process.stdout.write(
      `soak: minutes=${MINUTES} ticks=${done.length} rss_start_mb=${first.rssMb.toFixed(1)} rss_end_mb=${last.rssMb.toFixed(1)} rss_growth_pct=${growth.toFixed(1)} fds_start=${first.fds} fds_end=${last.fds} overlaps=${overlaps} stuck=${stuck} false_changes=${falseChanges}\n`,
    );
    const held =
      growth <= 10 &&
      last.fds <= first.fds + 2 &&
      overlaps === 0 &&
      stuck === 0 &&
      falseChanges === 0;
    return held ? 0 : 1;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

/** The ticks imagewatch logged (`tick done` / `tick failed`), with their start and end. */
function ticks(lines: readonly LogLine[]) {
  return lines
    .filter((line) => line.msg === 'tick done' || line.msg === 'tick failed')
    .map((line) => {
      const end = Date.parse(String(line.time));
      const durationMs = Number(line.durationMs);
      return { start: end - durationMs, end, durationMs };
    });
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
