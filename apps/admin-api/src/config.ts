import {
  type Env,
  imagePlatform,
  RegistryConfigError,
  registryHost,
  registryPrefix,
} from '@molecule/registry';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * The only place that reads the environment. Everything the service needs is parsed here,
 * once, into a frozen typed object; a bad or missing value throws `ConfigError` naming the
 * variable (main.ts turns that into exit code 2).
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `30s`, `10m`, `1h`, `500ms` or plain milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? 'ms';
  const factor = unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1;
  const ms = Math.round(amount * factor);
  return Number.isFinite(ms) ? ms : undefined;
}

const intIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const duration = (minMs: number, maxMs: number) =>
  z
    .string()
    .trim()
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 10m, 1h or ms' });
        return z.NEVER;
      }
      return ms;
    })
    .pipe(z.number().min(minMs).max(maxMs));

/** The variables, with their descriptions and defaults (README mirrors this table). */
export const configSchema = z.object({
  ADMIN_API_HOST: z
    .string()
    .trim()
    .min(1)
    .default('127.0.0.1')
    .describe('Address the HTTP server listens on.'),
  ADMIN_API_PORT: intIn(0, 65535).default(8080).describe('Port the HTTP server listens on.'),
  MOLECULE_ADMIN_TOKEN: z
    .string({ error: 'is required: the service refuses to start without an admin token' })
    .trim()
    .min(1, 'is required: the service refuses to start without an admin token')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .describe('Bearer token required on every /admin/* route.'),
  DOCKER_HOST: z
    .string()
    .trim()
    .optional()
    .describe('Docker engine address: unix:///path/docker.sock or tcp://host:port.'),
  DOCKER_TLS_VERIFY: z
    .enum(['', '0', '1'])
    .optional()
    .describe('1 → talk https to a tcp:// DOCKER_HOST.'),
  DOCKER_CERT_PATH: z
    .string()
    .optional()
    .describe('Directory with ca.pem, cert.pem, key.pem for DOCKER_TLS_VERIFY=1.'),
  ADMIN_API_STOP_GRACE_SECONDS: intIn(0, 3600)
    .default(10)
    .describe('Seconds a container gets to stop before it is killed and removed.'),
  ADMIN_API_PULL_TIMEOUT: duration(1000, 24 * 3_600_000)
    .default(600_000)
    .describe('Upper bound on one image pull (30s, 10m, 1h or ms).'),
  ADMIN_API_PULL_CONCURRENCY: intIn(1, 16)
    .default(3)
    .describe('How many runtimes are pulled at the same time.'),
  ADMIN_API_REFRESH_QUEUE_LIMIT: intIn(1, 1000)
    .default(16)
    .describe('Refresh requests that may wait for the running one; more get 429.'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('pino log level.'),
});

export type DockerConnection =
  | { readonly kind: 'socket'; readonly socketPath: string }
  | {
      readonly kind: 'tcp';
      readonly host: string;
      readonly port: number;
      readonly tls: { readonly certPath: string } | undefined;
    };

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly adminToken: string;
  readonly docker: DockerConnection;
  readonly registryPrefix: string;
  readonly registryHost: string;
  /** `''` means the engine's default platform. */
  readonly platform: string;
  readonly stopGraceSeconds: number;
  readonly pullTimeoutMs: number;
  readonly pullConcurrency: number;
  readonly refreshQueueLimit: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Snapshot of the environment for the registry packages (they take `env`, never read it). */
  readonly env: Env;
}

function parseDockerHost(
  value: string | undefined,
  tlsVerify: string | undefined,
  certPath: string | undefined,
): DockerConnection {
  if (value === undefined || value === '') {
    return Object.freeze({ kind: 'socket', socketPath: '/var/run/docker.sock' });
  }
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (!socketPath.startsWith('/')) {
      throw new ConfigError('DOCKER_HOST', `must be unix:///absolute/path, got ${value}`);
    }
    return Object.freeze({ kind: 'socket', socketPath });
  }
  if (value.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(`http://${value.slice('tcp://'.length)}`);
    } catch (cause) {
      throw new ConfigError('DOCKER_HOST', `is not a valid tcp://host:port address: ${value}`, {
        cause,
      });
    }
    const tls = tlsVerify === '1';
    if (tls && !certPath) {
      throw new ConfigError('DOCKER_CERT_PATH', 'is required when DOCKER_TLS_VERIFY=1');
    }
    const port = url.port === '' ? (tls ? 2376 : 2375) : Number(url.port);
    return Object.freeze({
      kind: 'tcp',
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port,
      tls: tls && certPath ? Object.freeze({ certPath }) : undefined,
    });
  }
  throw new ConfigError('DOCKER_HOST', `must start with unix:// or tcp://, got ${value}`);
}

/**
 * Parse and validate the configuration. Throws `ConfigError` naming the first bad variable.
 *
 * @example
 * const config = loadConfig({ MOLECULE_ADMIN_TOKEN: 'secret', ADMIN_API_PORT: '0' });
 */
export function loadConfig(env: Env = process.env): Config {
  // An empty variable means "use the default", like an unset one.
  const present = Object.fromEntries(
    Object.keys(configSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    // The token's value is never echoed; other values help the operator.
    const raw = env[variable];
    const shown =
      variable === 'MOLECULE_ADMIN_TOKEN' || raw === undefined
        ? ''
        : ` (got ${JSON.stringify(raw)})`;
    throw new ConfigError(variable, `${issue?.message ?? 'invalid'}${shown}`);
  }
  const values = parsed.data;

  let prefix: string;
  let host: string;
  let platform: string;
  try {
    prefix = registryPrefix(env);
    host = registryHost(env);
    platform = imagePlatform(env);
  } catch (error) {
    if (error instanceof RegistryConfigError || (error as { variable?: unknown }).variable) {
      const registryError = error as RegistryConfigError;
      throw new ConfigError(registryError.variable, registryError.message, { cause: error });
    }
    throw new ConfigError('MOLECULE_IMAGE_REGISTRY', String(error), { cause: error });
  }

  return Object.freeze({
    host: values.ADMIN_API_HOST,
    port: values.ADMIN_API_PORT,
    adminToken: values.MOLECULE_ADMIN_TOKEN,
    docker: parseDockerHost(values.DOCKER_HOST, values.DOCKER_TLS_VERIFY, values.DOCKER_CERT_PATH),
    registryPrefix: prefix,
    registryHost: host,
    platform,
    stopGraceSeconds: values.ADMIN_API_STOP_GRACE_SECONDS,
    pullTimeoutMs: values.ADMIN_API_PULL_TIMEOUT,
    pullConcurrency: values.ADMIN_API_PULL_CONCURRENCY,
    refreshQueueLimit: values.ADMIN_API_REFRESH_QUEUE_LIMIT,
    logLevel: values.LOG_LEVEL,
    env: Object.freeze({ ...env }),
  });
}

/** The configuration as safe to log: no token. */
export function describeConfig(config: Config): Record<string, unknown> {
  const { adminToken: _token, env: _env, ...rest } = config;
  return rest;
}
