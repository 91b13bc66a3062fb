import {
  isSignatureConfigError,
  parseSignaturePolicy,
  type SignaturePolicy,
} from '@molecule/image-signatures';
import { isRegistryConfigError } from '@molecule/registry';
import { loadRegistrySettings, type RegistrySettings } from '@molecule/registry-client';
import {
  ConfigError,
  choiceVariable,
  durationVariable,
  type Env,
  fromPackageConfig,
  integerVariable,
  type LogLevel,
  loadEnv,
  logLevelVariable,
  optionalText,
  secretVariable,
} from '@molecule/service-kit';
import { z } from 'zod';

/**
 * The only place that reads the environment. Everything the service needs is parsed here,
 * once, into a frozen typed object; a bad or missing value throws `ConfigError` naming the
 * variable (main.ts turns that into exit code 2).
 */

/** The variables, with their descriptions and defaults (README mirrors this table). */
export const EnvSchema = z.object({
  ADMIN_API_HOST: optionalText.describe('Address the HTTP server listens on. Default 127.0.0.1.'),
  ADMIN_API_PORT: integerVariable({ fallback: 8080, min: 0, max: 65_535 }).describe(
    'Port the HTTP server listens on. Default 8080.',
  ),
  MOLECULE_ADMIN_TOKEN: secretVariable().describe(
    'Bearer token required on every /admin/* route. Required.',
  ),
  DOCKER_HOST: optionalText.describe(
    'Docker engine address: unix:///path/docker.sock or tcp://host:port.',
  ),
  DOCKER_TLS_VERIFY: choiceVariable(['0', '1'], '0').describe(
    '1 → talk https to a tcp:// DOCKER_HOST.',
  ),
  DOCKER_CERT_PATH: optionalText.describe(
    'Directory with ca.pem, cert.pem, key.pem for DOCKER_TLS_VERIFY=1.',
  ),
  ADMIN_API_STOP_GRACE_SECONDS: integerVariable({ fallback: 10, min: 0, max: 3600 }).describe(
    'Seconds a container gets to stop before it is killed and removed. Default 10.',
  ),
  ADMIN_API_PULL_TIMEOUT: durationVariable({
    fallback: '10m',
    minMs: 1_000,
    maxMs: 24 * 3_600_000,
  }).describe('Upper bound on one image pull (30s, 10m, 1h or ms). Default 10m.'),
  ADMIN_API_PULL_CONCURRENCY: integerVariable({ fallback: 3, min: 1, max: 16 }).describe(
    'How many runtimes are pulled at the same time. Default 3.',
  ),
  ADMIN_API_REFRESH_QUEUE_LIMIT: integerVariable({ fallback: 16, min: 1, max: 1000 }).describe(
    'Distinct refresh requests that may wait for the running one; more get 429. Default 16.',
  ),
  ADMIN_API_SHUTDOWN_GRACE: durationVariable({
    fallback: '30s',
    minMs: 1_000,
    maxMs: 3_600_000,
  }).describe(
    'Bound on the whole shutdown after SIGTERM: the running refresh finishes or is cancelled inside it. Default 30s.',
  ),
  LOG_LEVEL: logLevelVariable.describe('pino log level. Default info.'),
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
  /** Every registry variable, parsed once (prefix, host, platform, credentials, insecure hosts). */
  readonly registry: RegistrySettings;
  /** The signed-image gate: mode, keys, threshold (`MOLECULE_IMAGE_SIGNATURE*`). */
  readonly signatures: SignaturePolicy;
  readonly stopGraceSeconds: number;
  readonly pullTimeoutMs: number;
  readonly pullConcurrency: number;
  readonly refreshQueueLimit: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
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
  const values = loadEnv(EnvSchema, env);
  if (values.MOLECULE_ADMIN_TOKEN === undefined) {
    throw new ConfigError(
      'MOLECULE_ADMIN_TOKEN',
      'is required: the service refuses to start without an admin token',
    );
  }
  const registry = fromPackageConfig(() => loadRegistrySettings(env), isRegistryConfigError);
  const signatures = fromPackageConfig(() => parseSignaturePolicy(env), isSignatureConfigError);
  return Object.freeze({
    host: values.ADMIN_API_HOST ?? '127.0.0.1',
    port: values.ADMIN_API_PORT,
    adminToken: values.MOLECULE_ADMIN_TOKEN,
    docker: parseDockerHost(values.DOCKER_HOST, values.DOCKER_TLS_VERIFY, values.DOCKER_CERT_PATH),
    registry,
    signatures,
    stopGraceSeconds: values.ADMIN_API_STOP_GRACE_SECONDS,
    pullTimeoutMs: values.ADMIN_API_PULL_TIMEOUT,
    pullConcurrency: values.ADMIN_API_PULL_CONCURRENCY,
    refreshQueueLimit: values.ADMIN_API_REFRESH_QUEUE_LIMIT,
    shutdownGraceMs: values.ADMIN_API_SHUTDOWN_GRACE,
    logLevel: values.LOG_LEVEL,
  });
}

/** The configuration as safe to log: no token, no credentials. */
export function describeConfig(config: Config): Record<string, unknown> {
  const { adminToken: _token, registry, signatures, ...rest } = config;
  return {
    ...rest,
    signatures: {
      mode: signatures.mode,
      keys: signatures.keys.length,
      threshold: signatures.threshold,
    },
    registry: {
      prefix: registry.prefix,
      host: registry.host,
      platform: registry.platform,
      credentials: registry.envCredential?.source ?? 'docker-config-or-anonymous',
      insecureRegistries: registry.insecureRegistries.length,
    },
  };
}
