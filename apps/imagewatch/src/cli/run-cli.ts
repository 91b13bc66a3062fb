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
import { runRollouts } from './rollouts.js';

export const USAGE = `Usage: imagewatch <command> [options]

Watches the workspace template images' digests in the configured registry and asks
admin-api to refresh a runtime whose digest moved.

Commands:
  run            run the service: a tick now, then every IMAGE_WATCH_INTERVAL;
                 GET /healthz, GET /metrics and POST /hooks/registry on IMAGE_WATCH_PORT
  check          resolve every watched runtime's remote digest once and print a table
  rollouts       list the rollouts of the running service (IMAGE_WATCH_URL), newest first
  rollout <id>   show one rollout, host by host
  rollout <id> resume|abort|rollback
                 resume a halted rollout, stop one, or roll it back (a new rollout of its
                 previous digest to the hosts that got the new one)
    --json       print JSON instead of a table (check, rollouts, rollout)

Options:
  -h, --help     show this help
  -V, --version  show the version

Exit codes: 0 every runtime resolved (check), the service answered (rollouts) or clean
            shutdown (run); 1 a runtime did not resolve, the service refused or failed;
            2 bad usage or configuration.
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
  const usage = usageProblem(positionals);
  if (usage !== undefined) {
    io.stderr.write(`imagewatch: ${usage}\n\n${USAGE}`);
    return 2;
  }
  if (values.json && command === 'run') {
    io.stderr.write('imagewatch: --json does not apply to run\n');
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
  if (command === 'rollouts' || command === 'rollout') {
    return runRollouts(
      config,
      {
        json: values.json === true,
        ...(positionals[1] === undefined ? {} : { id: positionals[1] }),
        ...(positionals[2] === undefined
          ? {}
          : { action: positionals[2] as 'resume' | 'abort' | 'rollback' }),
      },
      io,
    );
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

/** What is wrong with the command words, or `undefined`. */
function usageProblem(positionals: readonly string[]): string | undefined {
  const [command, ...rest] = positionals;
  if (command === undefined) return 'missing command';
  if ((command === 'run' || command === 'check' || command === 'rollouts') && rest.length === 0) {
    return undefined;
  }
  if (command === 'rollout') {
    if (rest.length === 0) return 'rollout needs an id (imagewatch rollouts lists them)';
    if (rest.length === 1) return undefined;
    if (rest.length === 2 && ['resume', 'abort', 'rollback'].includes(rest[1]!)) return undefined;
    return `unknown rollout action: ${rest.slice(1).join(' ')} (resume, abort or rollback)`;
  }
  return `unknown command: ${positionals.join(' ')}`;
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
