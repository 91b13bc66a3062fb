/**
 * The one reader of the environment. `loadConfig(env)` validates every variable once at
 * start and returns a frozen, typed value; a bad value throws `ConfigError` naming the
 * variable (the CLI turns that into exit code 2).
 *
 * Contract: the product contract (SPEC), "apps/imagewatch".
 */
import { join, resolve } from 'node:path';
import {
  isSignatureConfigError,
  parseSignaturePolicy,
  type SignaturePolicy,
} from '@molecule/image-signatures';
import {
  isKnownRuntime,
  isRegistryConfigError,
  KNOWN_RUNTIMES,
  type Runtime,
  runtimeImage,
} from '@molecule/registry';
import { loadRegistrySettings, type RegistrySettings } from '@molecule/registry-client';
import {
  booleanVariable,
  ConfigError,
  durationVariable,
  type Env,
  fromPackageConfig,
  httpUrlProblem,
  httpUrlVariable,
  integerVariable,
  type LogLevel,
  loadEnv,
  logLevelVariable,
  optionalText,
  secretVariable,
} from '@molecule/service-kit';
import { z } from 'zod';
import type { HostConfig } from './rollouts/hosts.js';
import { parseWaveSizes, planWaves, type WaveSize } from './rollouts/waves.js';
import { databaseUrlProblem } from './store/database-url.js';

export interface WatchTarget {
  /** The runtime whose template image this is; sent to admin-api's refresh. */
  readonly runtime: Runtime;
  /** Full image reference, also the key of the state file. */
  readonly image: string;
}

export interface ImagewatchConfig {
  readonly intervalMs: number;
  readonly autoRefresh: boolean;
  readonly adminApiUrl: string;
  readonly adminToken: string | undefined;
  readonly stateFile: string;
  readonly host: string;
  readonly port: number;
  readonly concurrency: number;
  readonly refreshTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
  /** Bearer secret of distribution notifications and Harbor webhooks on `POST /hooks/registry`. */
  readonly hookToken: string | undefined;
  /** HMAC secret of GitHub package webhooks on `POST /hooks/registry`. */
  readonly githubSecret: string | undefined;
  /** Every registry variable, parsed once (prefix, host, credentials, insecure hosts). */
  readonly registry: RegistrySettings;
  /** The signed-image gate: mode, keys, threshold (`MOLECULE_IMAGE_SIGNATURE*`). */
  readonly signatures: SignaturePolicy;
  /** What to watch: one target per runtime of `IMAGE_WATCH_RUNTIMES`, in that order. */
  readonly targets: readonly WatchTarget[];
  /** One admin-api per Docker host, in configured order (`IMAGE_WATCH_HOSTS`). */
  readonly hosts: readonly HostConfig[];
  /** Host names per wave, from `IMAGE_WATCH_ROLLOUT_WAVES` over `hosts`. */
  readonly waves: readonly (readonly string[])[];
  readonly rolloutSoakMs: number;
  readonly rolloutRetries: number;
  /** Where the CLI's `rollouts` commands find the running service (`IMAGE_WATCH_URL`). */
  readonly serviceUrl: string;
  /** `IMAGE_WATCH_DATABASE_URL` (holds a password: never logged as is). Unset: the state file. */
  readonly databaseUrl: string | undefined;
  readonly leaderRetryMs: number;
  /** Statement and connect timeout of the database (derived). */
  readonly databaseQueryTimeoutMs: number;
}

const HOST_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** `a=http://10.0.0.1:8080,b=http://10.0.0.2:8080` → hosts, or why not. */
export function parseHosts(
  text: string,
): { ok: true; hosts: HostConfig[] } | { ok: false; problem: string } {
  const hosts: HostConfig[] = [];
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const eq = entry.indexOf('=');
    const name = eq === -1 ? entry : entry.slice(0, eq).trim();
    const url =
      eq === -1
        ? ''
        : entry
            .slice(eq + 1)
            .trim()
            .replace(/\/+$/, '');
    if (eq === -1 || url === '') {
      return { ok: false, problem: `"${name}" has no URL: write name=http://host:port` };
    }
    if (!HOST_NAME.test(name)) {
      return { ok: false, problem: `host name "${name}" must match [a-z0-9][a-z0-9-]*` };
    }
    if (hosts.some((host) => host.name === name)) {
      return { ok: false, problem: `host name "${name}" is used twice` };
    }
    const problem = httpUrlProblem(url, 'use MOLECULE_ADMIN_TOKEN for the token');
    if (problem !== undefined) return { ok: false, problem: `host ${name}: ${problem}` };
    hosts.push({ name, url });
  }
  if (hosts.length === 0) return { ok: false, problem: 'names no host' };
  return { ok: true, hosts };
}

const hostsVariable = optionalText.transform((value, ctx): HostConfig[] | undefined => {
  if (value === undefined) return undefined;
  const parsed = parseHosts(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.hosts;
});

const wavesVariable = optionalText.transform((value, ctx): WaveSize[] => {
  const parsed = parseWaveSizes(value ?? '100%');
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.sizes;
});

/** A PostgreSQL URL; the problem is described without ever echoing the value (it holds a password). */
const databaseUrlVariable = optionalText.transform((value, ctx): string | undefined => {
  if (value === undefined) return undefined;
  const problem = databaseUrlProblem(value);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return value;
});

const runtimesVariable = optionalText.transform((value, ctx): Runtime[] => {
  if (value === undefined) return [...KNOWN_RUNTIMES];
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !isKnownRuntime(name));
  if (unknown.length > 0 || names.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown runtime ${JSON.stringify(unknown.join(','))}; known: ${KNOWN_RUNTIMES.join(', ')}`,
    });
    return z.NEVER;
  }
  return [...new Set(names)] as Runtime[];
});

/** Every variable imagewatch reads, with its default and meaning (the README lists the same). */
export const EnvSchema = z.object({
  IMAGE_WATCH_INTERVAL: durationVariable({ fallback: '5m', minMs: 1_000 }).describe(
    'Time between ticks (30s, 5m, 1h or milliseconds; at least 1s). Default 5m; each wait gets ±10% jitter.',
  ),
  IMAGE_AUTO_REFRESH: booleanVariable(false).describe(
    'true: ask admin-api to refresh a runtime whose digest moved. false/unset: monitor only.',
  ),
  MOLECULE_ADMIN_API_URL: httpUrlVariable({
    fallback: 'http://127.0.0.1:8080',
    credentialsHint: 'use MOLECULE_ADMIN_TOKEN',
  }).describe('Base URL of admin-api. Default http://127.0.0.1:8080.'),
  MOLECULE_ADMIN_TOKEN: secretVariable().describe(
    'Bearer token for admin-api. Required when IMAGE_AUTO_REFRESH=true; optional otherwise (enables the first-sight local digest check).',
  ),
  IMAGE_WATCH_DATA_DIR: optionalText.describe(
    'Directory for the state file. Default ./.data/imagewatch (containers: /var/lib/imagewatch on a volume).',
  ),
  IMAGE_WATCH_STATE_FILE: optionalText.describe(
    'Where seen digests persist. Default <IMAGE_WATCH_DATA_DIR>/state.json.',
  ),
  IMAGE_WATCH_HOST: optionalText.describe(
    'Address the HTTP server (health, metrics, hooks) listens on. Default 127.0.0.1 (containers: 0.0.0.0).',
  ),
  IMAGE_WATCH_PORT: integerVariable({ fallback: 9090, min: 0, max: 65_535 }).describe(
    'Port of /healthz, /metrics and /hooks/registry. Default 9090.',
  ),
  IMAGE_WATCH_RUNTIMES: runtimesVariable.describe(
    'Comma list of runtimes to watch. Default: all known runtimes.',
  ),
  IMAGE_WATCH_CONCURRENCY: integerVariable({ fallback: 8, min: 1, max: 64 }).describe(
    'How many digest checks run at once across runtimes. Default 8.',
  ),
  IMAGE_WATCH_REFRESH_TIMEOUT: durationVariable({ fallback: '15m', minMs: 1_000 }).describe(
    'Upper bound for one admin-api refresh call (pulls can be slow). Default 15m.',
  ),
  IMAGE_WATCH_SHUTDOWN_GRACE: durationVariable({
    fallback: '10s',
    minMs: 1_000,
    maxMs: 3_600_000,
  }).describe(
    'How long a SIGTERM lets the running tick finish before its calls are aborted and the process exits. Default 10s.',
  ),
  IMAGE_WATCH_HOOK_TOKEN: secretVariable().describe(
    'Bearer secret registries send on POST /hooks/registry (distribution notifications, Harbor webhooks: a fixed Authorization header). Unset: both are refused.',
  ),
  IMAGE_WATCH_GITHUB_SECRET: secretVariable().describe(
    'Secret of GitHub package webhooks (X-Hub-Signature-256). With neither secret set, POST /hooks/registry is disabled (404).',
  ),
  IMAGE_WATCH_HOSTS: hostsVariable.describe(
    'Comma-separated name=url pairs, one admin-api per Docker host, rolled out in this order. Default: one host "default" at MOLECULE_ADMIN_API_URL.',
  ),
  IMAGE_WATCH_ROLLOUT_WAVES: wavesVariable.describe(
    'Cumulative wave sizes, host counts or percentages (1,50%,100%). Default 100% (one wave).',
  ),
  IMAGE_WATCH_ROLLOUT_SOAK: durationVariable({
    fallback: '0s',
    minMs: 0,
    maxMs: 7 * 24 * 3_600_000,
  }).describe('Wait after a done wave before the next one starts. Default 0s.'),
  IMAGE_WATCH_ROLLOUT_RETRIES: integerVariable({ fallback: 3, min: 0, max: 100 }).describe(
    'Retries (with backoff) of a host whose refresh fails before its wave halts the rollout. Default 3.',
  ),
  IMAGE_WATCH_DATABASE_URL: databaseUrlVariable.describe(
    'postgres://user:password@host:5432/db: seen digests and rollouts in PostgreSQL, shared by any number of replicas (one leader). Unset: the state file.',
  ),
  IMAGE_WATCH_LEADER_RETRY: durationVariable({
    fallback: '5s',
    minMs: 100,
    maxMs: 600_000,
  }).describe(
    'How often a follower tries to take the leader lock (a takeover happens within this plus one tick). Default 5s.',
  ),
  IMAGE_WATCH_URL: httpUrlVariable({ credentialsHint: 'use MOLECULE_ADMIN_TOKEN' }).describe(
    'Where the rollouts CLI finds the running service. Default http://127.0.0.1:<IMAGE_WATCH_PORT>.',
  ),
  LOG_LEVEL: logLevelVariable.describe('pino log level. Default info.'),
});

/**
 * Validates the environment and returns the frozen configuration.
 *
 * @example
 * const config = loadConfig({ IMAGE_WATCH_INTERVAL: '30s', MOLECULE_IMAGE_REGISTRY: 'localhost:5000/acme' });
 * config.intervalMs; // 30000
 * @throws ConfigError naming the variable.
 */
export function loadConfig(env: Env = process.env): ImagewatchConfig {
  const values = loadEnv(EnvSchema, env);
  const registry = fromPackageConfig(() => loadRegistrySettings(env), isRegistryConfigError);
  const signatures = fromPackageConfig(() => parseSignaturePolicy(env), isSignatureConfigError);
  if (values.IMAGE_AUTO_REFRESH && values.MOLECULE_ADMIN_TOKEN === undefined) {
    throw new ConfigError(
      'MOLECULE_ADMIN_TOKEN',
      'is required when IMAGE_AUTO_REFRESH=true (admin-api refuses unauthenticated refreshes)',
    );
  }
  const hosts = values.IMAGE_WATCH_HOSTS ?? [
    { name: 'default', url: values.MOLECULE_ADMIN_API_URL! },
  ];
  const planned = planWaves(
    hosts.map((host) => host.name),
    values.IMAGE_WATCH_ROLLOUT_WAVES,
  );
  if (!planned.ok) throw new ConfigError('IMAGE_WATCH_ROLLOUT_WAVES', planned.problem);
  const dataDir = resolve(values.IMAGE_WATCH_DATA_DIR ?? join('.data', 'imagewatch'));
  const targets = values.IMAGE_WATCH_RUNTIMES.map((runtime) =>
    Object.freeze({ runtime, image: runtimeImage(runtime, registry.env)! }),
  );
  return Object.freeze({
    intervalMs: values.IMAGE_WATCH_INTERVAL,
    autoRefresh: values.IMAGE_AUTO_REFRESH,
    adminApiUrl: values.MOLECULE_ADMIN_API_URL!,
    adminToken: values.MOLECULE_ADMIN_TOKEN,
    stateFile: resolve(values.IMAGE_WATCH_STATE_FILE ?? join(dataDir, 'state.json')),
    host: values.IMAGE_WATCH_HOST ?? '127.0.0.1',
    port: values.IMAGE_WATCH_PORT,
    concurrency: values.IMAGE_WATCH_CONCURRENCY,
    refreshTimeoutMs: values.IMAGE_WATCH_REFRESH_TIMEOUT,
    shutdownGraceMs: values.IMAGE_WATCH_SHUTDOWN_GRACE,
    logLevel: values.LOG_LEVEL,
    hookToken: values.IMAGE_WATCH_HOOK_TOKEN,
    githubSecret: values.IMAGE_WATCH_GITHUB_SECRET,
    registry,
    signatures,
    targets: Object.freeze(targets),
    hosts: Object.freeze(hosts.map((host) => Object.freeze(host))),
    waves: Object.freeze(planned.waves.map((wave) => Object.freeze(wave))),
    rolloutSoakMs: values.IMAGE_WATCH_ROLLOUT_SOAK,
    rolloutRetries: values.IMAGE_WATCH_ROLLOUT_RETRIES,
    serviceUrl: values.IMAGE_WATCH_URL ?? `http://127.0.0.1:${values.IMAGE_WATCH_PORT}`,
    databaseUrl: values.IMAGE_WATCH_DATABASE_URL,
    leaderRetryMs: values.IMAGE_WATCH_LEADER_RETRY,
    // Bounds every statement: how long a silent leader may take to step down, kept below
    // the leader retry and half a tick interval.
    databaseQueryTimeoutMs: Math.max(
      500,
      Math.min(5_000, values.IMAGE_WATCH_LEADER_RETRY, values.IMAGE_WATCH_INTERVAL / 2),
    ),
  });
}
