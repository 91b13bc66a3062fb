/**
 * `imagewatch run | check [--json] | --help | --version`: reads argv and the configuration,
 * then hands over to the service (server.ts) or a one-shot command (cli/). Exit codes: 0 ok,
 * 1 a runtime did not resolve (check) or the service failed, 2 bad usage or configuration.
 */
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createCredentialResolver, createRegistryClient } from '@molecule/registry-client';
import { type Env, isConfigError } from '@molecule/service-kit';
import packageJson from '../../package.json' with { type: 'json' };
import { type ImagewatchConfig, loadConfig } from '../config.js';
import { runServer } from '../server.js';
import { runCheck } from './check.js';

export const USAGE = `Usage: imagewatch <command> [options]

Watches the workspace template images' digests in the configured registry and asks
admin-api to refresh a runtime whose digest moved.

Commands:
  run            run the service: a tick now, then every IMAGE_WATCH_INTERVAL;
                 GET /healthz, GET /metrics and POST /hooks/registry on IMAGE_WATCH_PORT
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
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Default: `process.env` (read by config.ts only). */
  readonly env?: Env;
  /** `run` stops when this resolves. Default: the first SIGTERM or SIGINT. */
  readonly stop?: Promise<string>;
  /** Called once `run` listens (tests read the port). */
  readonly onListening?: (address: { host: string; port: number }) => void;
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
    config = loadConfig(io.env);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    io.stderr.write(`imagewatch: configuration error: ${error.message}\n`);
    return 2;
  }
  if (command === 'run') {
    return runServer(config, {
      stdout: io.stdout,
      ...(io.stop === undefined ? {} : { stop: io.stop }),
      ...(io.onListening === undefined ? {} : { onListening: io.onListening }),
    });
  }
  const client = createRegistryClient({
    settings: config.registry,
    credentials: createCredentialResolver({ settings: config.registry }),
    concurrencyPerHost: config.concurrency,
  });
  try {
    return await runCheck(config, client, { json: values.json === true, stdout: io.stdout });
  } finally {
    await client.close();
  }
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
    },
  });
}
