/**
 * `imagewatch run | check [--json] | --help | --version`. Owns the process side: reads argv,
 * wires the parts, listens, handles SIGTERM. Exit codes: 0 ok, 1 a runtime did not resolve
 * (check) or the service failed, 2 bad usage or configuration.
 */
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Env } from '@molecule/registry';
import packageJson from '../package.json' with { type: 'json' };
import { type ImagewatchConfig, loadConfig, syntheticTargets, type WatchTarget } from './config.js';
import { shortDigest } from './decide.js';
import { ConfigError } from './errors.js';
import { createLimiter } from './limiter.js';
import { createLogger } from './logger.js';
import { createRegistryClientFor, createService } from './service.js';

export const USAGE = `Usage: imagewatch <command> [options]

Watches the workspace template images' digests in the configured registry and asks
admin-api to refresh a runtime whose digest moved.

Commands:
  run            run the service: a tick now, then every IMAGE_WATCH_INTERVAL;
                 GET /healthz and GET /metrics on IMAGE_WATCH_PORT
  check          resolve every watched runtime's remote digest once and print a table
    --json       print JSON instead of a table

Options:
  -h, --help     show this help
  -V, --version  show the version

Exit codes: 0 every runtime resolved (check) or clean shutdown (run),
            1 a runtime did not resolve or the service failed, 2 bad usage or configuration.
Configuration is read from the environment only; see the README for every variable.
`;

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  /** Default: `process.env` (read by config.ts only). */
  env?: Env;
  /** `run` stops when this resolves. Default: the first SIGTERM or SIGINT. */
  shutdown?: Promise<unknown>;
  /** Called once `run` listens (tests read the port). */
  onListening?: (address: { host: string; port: number }) => void;
}

export async function runCli(
  argv: readonly string[],
  partialIo: Partial<CliIo> = {},
): Promise<number> {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, ...partialIo };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr.write(`imagewatch: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.stdout.write(`${packageJson.version}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (
    command === undefined ||
    positionals.length > 1 ||
    (command !== 'run' && command !== 'check')
  ) {
    io.stderr.write(
      `imagewatch: ${command === undefined ? 'missing command' : `unknown command: ${positionals.join(' ')}`}\n\n${USAGE}`,
    );
    return 2;
  }
  if (values.json && command !== 'check') {
    io.stderr.write('imagewatch: --json only applies to check\n');
    return 2;
  }

  let config: ImagewatchConfig;
  try {
    config = io.env === undefined ? loadConfig() : loadConfig(io.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`imagewatch: configuration error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  let synthetic: number | undefined;
  if (values['synthetic-refs'] !== undefined) {
    synthetic = Number(values['synthetic-refs']);
    if (!Number.isInteger(synthetic) || synthetic < 0 || synthetic > 100_000) {
      io.stderr.write('imagewatch: --synthetic-refs takes an integer from 0 to 100000\n');
      return 2;
    }
  }
  const targets = synthetic === undefined ? config.targets : syntheticTargets(config, synthetic);
  return command === 'check'
    ? check(config, targets, values.json === true, io)
    : run(config, targets, io);
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
      json: { type: 'boolean' },
      // Hidden (benchmarks): watch N synthetic references `<prefix>/synthetic-<n>:latest`.
      'synthetic-refs': { type: 'string' },
    },
  });
}

interface CheckRow {
  runtime: string;
  image: string;
  digest?: string;
  mediaType?: string;
  error?: { code: string; message: string };
}

async function check(
  config: ImagewatchConfig,
  targets: readonly WatchTarget[],
  json: boolean,
  io: CliIo,
): Promise<number> {
  const client = createRegistryClientFor(config);
  const limit = createLimiter(config.concurrency);
  let rows: CheckRow[];
  try {
    rows = await Promise.all(
      targets.map((target) =>
        limit(async (): Promise<CheckRow> => {
          try {
            const { digest, mediaType } = await client.getManifestDigest(target.image);
            return { runtime: target.runtime, image: target.image, digest, mediaType };
          } catch (error) {
            const code =
              typeof (error as { code?: unknown }).code === 'string'
                ? (error as { code: string }).code
                : 'UNKNOWN';
            return {
              runtime: target.runtime,
              image: target.image,
              error: { code, message: error instanceof Error ? error.message : String(error) },
            };
          }
        }),
      ),
    );
  } finally {
    await client.close();
  }
  const ok = rows.every((row) => row.digest !== undefined);
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ ok, registry: config.registryHost, prefix: config.registryPrefix, results: rows }, null, 2)}\n`,
    );
  } else {
    io.stdout.write(formatTable(rows));
  }
  return ok ? 0 : 1;
}

/** The people's view of `check`: runtime, image, short digest or the error. */
export function formatTable(rows: readonly CheckRow[]): string {
  const lines = [
    ['RUNTIME', 'IMAGE', 'DIGEST'],
    ...rows.map((row) => [
      row.runtime,
      row.image,
      row.digest !== undefined
        ? shortDigest(row.digest)
        : `error ${row.error?.code}: ${row.error?.message}`,
    ]),
  ];
  const widths = [0, 1].map((column) => Math.max(...lines.map((line) => line[column]!.length)));
  return (
    lines
      .map((line) =>
        `${line[0]!.padEnd(widths[0]!)}  ${line[1]!.padEnd(widths[1]!)}  ${line[2]}`.trimEnd(),
      )
      .join('\n') + '\n'
  );
}

async function run(
  config: ImagewatchConfig,
  targets: readonly WatchTarget[],
  io: CliIo,
): Promise<number> {
  const logger = createLogger({ level: config.logLevel, destination: io.stdout as never });
  const service = await createService(config, { logger, targets });
  const shutdown = io.shutdown ?? waitForSignal(logger);
  let exitCode = 0;
  try {
    await service.app.listen({ host: config.host, port: config.port });
    const address = service.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    logger.info(
      {
        host: config.host,
        port,
        registry: config.registryPrefix,
        references: targets.length,
        intervalMs: config.intervalMs,
        autoRefresh: config.autoRefresh,
        stateFile: config.stateFile,
        // Which notification sources POST /hooks/registry accepts (never the secrets).
        hooks: {
          distribution: config.hookToken !== undefined,
          github: config.githubSecret !== undefined,
        },
      },
      config.autoRefresh ? 'imagewatch started' : 'imagewatch started (monitor-only)',
    );
    io.onListening?.({ host: config.host, port });
    service.watcher.start();
    await shutdown;
    logger.info('shutting down');
  } catch (error) {
    logger.error({ err: error }, 'imagewatch failed');
    exitCode = 1;
  } finally {
    await service.close();
    logger.info({ stateFile: config.stateFile }, 'state flushed, bye');
    logger.flush();
  }
  return exitCode;
}

function waitForSignal(logger: { info(obj: object, msg: string): void }): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      logger.info({ signal }, 'signal received');
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
