import type { ECRClient, GetAuthorizationTokenCommandOutput } from '@aws-sdk/client-ecr';
import { raceSignal } from '../abort.js';
import { RegistryError } from '../errors.js';
import type { Env, RegistryCredential } from '../types.js';

/** `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` */
const ECR_HOST = /^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

export interface EcrHost {
  readonly accountId: string;
  readonly region: string;
}

/** The account and region of an ECR registry host, or `undefined` for any other host. */
export function parseEcrHost(host: string): EcrHost | undefined {
  const match = ECR_HOST.exec(host.trim().toLowerCase());
  if (!match) return undefined;
  return { accountId: match[1]!, region: match[3]! };
}

/** The one call we make; any object with this method will do (tests may inject one). */
export interface EcrClientLike {
  getAuthorizationToken(
    accountId: string,
    signal: AbortSignal,
  ): Promise<GetAuthorizationTokenCommandOutput>;
}

// The AWS SDK costs several MB of memory and load time; only ECR hosts need it, so it is
// loaded on first use rather than with the package.
let sdk: Promise<typeof import('@aws-sdk/client-ecr')> | undefined;
function loadSdk() {
  sdk ??= import('@aws-sdk/client-ecr');
  return sdk;
}

export type EcrClientFactory = (region: string) => EcrClientLike;

export interface EcrCredentialOptions {
  readonly env: Env;
  /** Build the SDK client for a region (default: `ECRClient` on the default credential chain). */
  readonly clientFactory?: EcrClientFactory;
  /** Endpoint override for the default factory (tests point it at a local fake). */
  readonly endpoint?: string;
  /** Renew this long before `expiresAt` (default 5 min). */
  readonly renewBeforeMs?: number;
  readonly now?: () => number;
}

export interface EcrCredentialSource {
  /** `AWS:<password>` from GetAuthorizationToken, cached until shortly before it expires. */
  get(host: EcrHost, signal?: AbortSignal): Promise<RegistryCredential>;
}

/**
 * ECR credentials through the AWS SDK v3. Static credentials come from
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`(/`AWS_SESSION_TOKEN`) in `env` when present,
 * else the SDK's default chain (profiles, SSO, web identity, instance role).
 */
export function createEcrCredentialSource(options: EcrCredentialOptions): EcrCredentialSource {
  const now = options.now ?? Date.now;
  const renewBeforeMs = options.renewBeforeMs ?? 5 * 60_000;
  const factory = options.clientFactory ?? defaultFactory(options.env, options.endpoint);
  const clients = new Map<string, EcrClientLike>();
  const cache = new Map<string, { credential: RegistryCredential; renewAt: number }>();
  const inflight = new Map<string, Promise<RegistryCredential>>();

  async function fetchCredential(host: EcrHost): Promise<RegistryCredential> {
    let client = clients.get(host.region);
    if (client === undefined) {
      client = factory(host.region);
      clients.set(host.region, client);
    }
    let output: GetAuthorizationTokenCommandOutput;
    try {
      output = await client.getAuthorizationToken(host.accountId, AbortSignal.timeout(30_000));
    } catch (error) {
      throw sdkError(host, error);
    }
    const data = output.authorizationData?.[0];
    const decoded = Buffer.from(data?.authorizationToken ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0 || colon === decoded.length - 1) {
      throw new RegistryError({
        code: 'BAD_RESPONSE',
        method: 'ECR',
        target: `GetAuthorizationToken ${host.region}`,
        hint: 'the authorization token is not base64 of AWS:<password>',
      });
    }
    const credential: RegistryCredential = {
      kind: 'basic',
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      source: 'ecr',
    };
    const expiresAt = data?.expiresAt?.getTime() ?? now() + 60 * 60_000;
    const lifetime = expiresAt - now();
    cache.set(key(host), {
      credential,
      renewAt: expiresAt - Math.min(renewBeforeMs, Math.max(0, lifetime / 2)),
    });
    return credential;
  }

  return {
    get(host, signal) {
      const cached = cache.get(key(host));
      if (cached !== undefined && cached.renewAt > now()) return Promise.resolve(cached.credential);
      let pending = inflight.get(key(host));
      if (pending === undefined) {
        pending = fetchCredential(host).finally(() => inflight.delete(key(host)));
        inflight.set(key(host), pending);
      }
      return raceSignal(pending, signal);
    },
  };
}

function key(host: EcrHost): string {
  return `${host.accountId}.${host.region}`;
}

function defaultFactory(env: Env, endpoint: string | undefined): EcrClientFactory {
  return (region) => {
    let client: ECRClient | undefined;
    return {
      async getAuthorizationToken(accountId, signal) {
        const { ECRClient, GetAuthorizationTokenCommand } = await loadSdk();
        client ??= new ECRClient(ecrClientConfig(env, endpoint, region));
        return client.send(new GetAuthorizationTokenCommand({ registryIds: [accountId] }), {
          abortSignal: signal,
        });
      },
    };
  };
}

function ecrClientConfig(env: Env, endpoint: string | undefined, region: string) {
  return {
    region,
    maxAttempts: 3,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  };
}

function sdkError(host: EcrHost, error: unknown): RegistryError {
  const name = (error as { name?: string }).name ?? 'Error';
  const denied =
    /AccessDenied|UnrecognizedClient|InvalidSignature|ExpiredToken|InvalidClientToken/i.test(name);
  const noCredentials = /CredentialsProviderError/i.test(name);
  return new RegistryError({
    code: denied ? 'UNAUTHORIZED' : noCredentials ? 'CONFIG' : 'UNAVAILABLE',
    method: 'ECR',
    target: `GetAuthorizationToken ${host.accountId} ${host.region}`,
    host: `${host.accountId}.dkr.ecr.${host.region}.amazonaws.com`,
    hint: denied
      ? `AWS refused (${name}); check the AWS credentials and that they allow ecr:GetAuthorizationToken`
      : noCredentials
        ? 'no AWS credentials found; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an instance/task role'
        : `GetAuthorizationToken failed (${name}); check network access to ECR in ${host.region}`,
  });
}
