/**
 * The one reader of the environment. `loadConfig(env)` validates every variable once at
 * start and returns a frozen, typed value; a bad value throws `ConfigError` naming the
 * variable (the CLI turns that into exit code 2).
 *
 * Contract: SPEC.md "apps/imagewatch".
 */
import { join, resolve } from 'node:path';
import {
  type Env,
  isKnownRuntime,
  KNOWN_RUNTIMES,
  type Runtime,
  registryHost,
  registryPrefix,
  runtimeImage,
} from '@molecule/registry';
import { z } from 'zod';
import { ConfigError } from './errors.js';

export interface WatchTarget {
  /** Runtime name sent to admin-api's refresh (a synthetic label in benchmarks). */
  readonly runtime: string;
  /** Full image reference, also the key of the state file. */
  readonly image: string;
}

export interface ImagewatchConfig {
  readonly intervalMs: number;
  readonly autoRefresh: boolean;
  readonly adminApiUrl: string;
  readonly adminToken: string | undefined;
  readonly dataDir: string;
  readonly stateFile: string;
  readonly host: string;
  readonly port: number;
  readonly runtimes: readonly Runtime[];
  readonly concurrency: number;
  readonly refreshTimeoutMs: number;
  readonly logLevel: string;
  /** Bearer secret of distribution notifications and Harbor webhooks on `POST /hooks/registry`. */
  readonly hookToken: string | undefined;
  /** HMAC secret of GitHub package webhooks on `POST /hooks/registry`. */
  readonly githubSecret: string | undefined;
  readonly registryPrefix: string;
  readonly registryHost: string;
  /** What to watch: one target per runtime, in `runtimes` order. */
  readonly targets: readonly WatchTarget[];
  /** The environment snapshot handed to `@molecule/registry-client` (credentials, insecure hosts). */
  readonly env: Env;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * `30s`, `5m`, `1h`, `1500ms` or plain milliseconds (`60000`) → milliseconds, or `undefined`
 * when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

/** Empty or whitespace-only values count as unset. */
const optionalText = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z.string().optional(),
);

function duration(name: string, fallback: string, minimumMs: number) {
  return optionalText.transform((value, ctx) => {
    const text = value ?? fallback;
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid duration ${JSON.stringify(text)}: use e.g. 30s, 5m, 1h or milliseconds`,
      });
      return z.NEVER;
    }
    if (ms < minimumMs) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(text)} is too short: ${name} must be at least ${minimumMs / 1000}s`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

function integer(fallback: number, min: number, max: number) {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid value ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`,
      });
      return z.NEVER;
    }
    return n;
  });
}

/** A secret: surrounding whitespace (env files, copy and paste) is dropped; none inside. */
function secret() {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const text = value.trim();
    if (/\s/.test(text)) {
      // Never echo the value: it is a secret.
      ctx.addIssue({ code: 'custom', message: 'must not contain whitespace' });
      return z.NEVER;
    }
    return text;
  });
}

/** Every variable imagewatch reads, with its default and meaning (the README lists the same). */
export const EnvSchema = z.object({
  IMAGE_WATCH_INTERVAL: duration('IMAGE_WATCH_INTERVAL', '5m', 1_000).describe(
    'Time between ticks (30s, 5m, 1h or milliseconds; at least 1s). Default 5m; each wait gets ±10% jitter.',
  ),
  IMAGE_AUTO_REFRESH: optionalText
    .transform((value, ctx) => {
      const v = (value ?? 'false').trim().toLowerCase();
      if (v !== 'true' && v !== 'false') {
        ctx.addIssue({
          code: 'custom',
          message: `invalid value ${JSON.stringify(value)}: expected true or false`,
        });
        return z.NEVER;
      }
      return v === 'true';
    })
    .describe(
      'true: ask admin-api to refresh a runtime whose digest moved. false/unset: monitor only.',
    ),
  MOLECULE_ADMIN_API_URL: optionalText
    .transform((value, ctx) => {
      const text = (value ?? 'http://127.0.0.1:8080').trim().replace(/\/+$/, '');
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `invalid URL ${JSON.stringify(text)}` });
        return z.NEVER;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        ctx.addIssue({
          code: 'custom',
          message: `invalid URL ${JSON.stringify(text)}: use http or https`,
        });
        return z.NEVER;
      }
      if (url.username || url.password) {
        ctx.addIssue({
          code: 'custom',
          message: 'must not contain credentials; use MOLECULE_ADMIN_TOKEN',
        });
        return z.NEVER;
      }
      return text;
    })
    .describe('Base URL of admin-api. Default http://127.0.0.1:8080.'),
  MOLECULE_ADMIN_TOKEN: optionalText.describe(
    'Bearer token for admin-api. Required when IMAGE_AUTO_REFRESH=true; optional otherwise (enables the first-sight local digest check).',
  ),
  IMAGE_WATCH_DATA_DIR: optionalText.describe(
    'Directory for the state file. Default ./.data/imagewatch (containers: set /var/lib/imagewatch on a volume).',
  ),
  IMAGE_WATCH_STATE_FILE: optionalText.describe(
    'Where seen digests persist. Default <IMAGE_WATCH_DATA_DIR>/state.json.',
  ),
  IMAGE_WATCH_HOST: optionalText.describe(
    'Address /healthz and /metrics listen on. Default 127.0.0.1 (containers: 0.0.0.0).',
  ),
  IMAGE_WATCH_PORT: integer(9090, 0, 65_535).describe(
    'Port of /healthz and /metrics. Default 9090.',
  ),
  IMAGE_WATCH_RUNTIMES: optionalText
    .transform((value, ctx) => {
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
    })
    .describe('Comma list of runtimes to watch. Default: all known runtimes.'),
  IMAGE_WATCH_CONCURRENCY: integer(8, 1, 64).describe(
    'How many digest checks run at once across runtimes. Default 8.',
  ),
  IMAGE_WATCH_REFRESH_TIMEOUT: duration('IMAGE_WATCH_REFRESH_TIMEOUT', '15m', 1_000).describe(
    'Upper bound for one admin-api refresh call (pulls can be slow). Default 15m.',
  ),
  IMAGE_WATCH_HOOK_TOKEN: secret().describe(
    'Bearer secret registries send on POST /hooks/registry (distribution notifications, Harbor webhooks: a fixed Authorization header). Unset: both are refused.',
  ),
  IMAGE_WATCH_GITHUB_SECRET: secret().describe(
    'Secret of GitHub package webhooks (X-Hub-Signature-256). With neither secret set, POST /hooks/registry is disabled (404).',
  ),
  LOG_LEVEL: optionalText
    .transform((value, ctx) => {
      const level = (value ?? 'info').trim().toLowerCase();
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
        ctx.addIssue({ code: 'custom', message: `invalid log level ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      return level;
    })
    .describe('pino log level. Default info.'),
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
  const snapshot: Env = Object.freeze({ ...env });
  const parsed = EnvSchema.safeParse(snapshot);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const values = parsed.data;

  let prefix: string;
  let host: string;
  try {
    prefix = registryPrefix(snapshot);
    host = registryHost(snapshot);
  } catch (error) {
    const variable =
      typeof (error as { variable?: unknown }).variable === 'string'
        ? (error as { variable: string }).variable
        : 'MOLECULE_IMAGE_REGISTRY';
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(variable, message, { cause: error });
  }

  if (values.IMAGE_AUTO_REFRESH && values.MOLECULE_ADMIN_TOKEN === undefined) {
    throw new ConfigError(
      'MOLECULE_ADMIN_TOKEN',
      'is required when IMAGE_AUTO_REFRESH=true (admin-api refuses unauthenticated refreshes)',
    );
  }

  const dataDir = resolve(values.IMAGE_WATCH_DATA_DIR ?? join('.data', 'imagewatch'));
  const stateFile = resolve(values.IMAGE_WATCH_STATE_FILE ?? join(dataDir, 'state.json'));
  const targets = values.IMAGE_WATCH_RUNTIMES.map((runtime) =>
    Object.freeze({ runtime, image: runtimeImage(runtime, snapshot)! }),
  );

  return Object.freeze({
    intervalMs: values.IMAGE_WATCH_INTERVAL,
    autoRefresh: values.IMAGE_AUTO_REFRESH,
    adminApiUrl: values.MOLECULE_ADMIN_API_URL,
    adminToken: values.MOLECULE_ADMIN_TOKEN,
    dataDir,
    stateFile,
    host: values.IMAGE_WATCH_HOST ?? '127.0.0.1',
    port: values.IMAGE_WATCH_PORT,
    runtimes: Object.freeze(values.IMAGE_WATCH_RUNTIMES),
    concurrency: values.IMAGE_WATCH_CONCURRENCY,
    refreshTimeoutMs: values.IMAGE_WATCH_REFRESH_TIMEOUT,
    logLevel: values.LOG_LEVEL,
    hookToken: values.IMAGE_WATCH_HOOK_TOKEN,
    githubSecret: values.IMAGE_WATCH_GITHUB_SECRET,
    registryPrefix: prefix,
    registryHost: host,
    targets: Object.freeze(targets),
    env: snapshot,
  });
}

/** Benchmark-only: `count` synthetic references `<prefix>/synthetic-<n>:latest`. */
export function syntheticTargets(config: ImagewatchConfig, count: number): WatchTarget[] {
  return Array.from({ length: count }, (_, n) => ({
    runtime: `synthetic-${n}`,
    image: `${config.registryPrefix}/synthetic-${n}:latest`,
  }));
}
