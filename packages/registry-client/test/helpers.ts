import {
  type FakeRegistry,
  type FakeRegistryOptions,
  startFakeRegistry,
} from '@molecule/fake-registry';
import { afterEach } from 'vitest';
import {
  createCredentialResolver,
  createRegistryClient,
  type RegistryClient,
  type RegistryClientOptions,
  type RegistryRequestEvent,
} from '../src/index.js';

export const USER = { username: 'molecule-bot', password: 'pw-Secret-0f9e8d7c' };

export interface Harness {
  readonly registry: FakeRegistry;
  readonly client: RegistryClient;
  readonly events: RegistryRequestEvent[];
  readonly env: Record<string, string>;
  ref(repository: string, tag?: string): string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A fake registry and a client configured for it; both closed after the test. */
export async function startHarness(
  registryOptions: FakeRegistryOptions = {},
  options: {
    credentials?: { username: string; password: string } | undefined;
    client?: Partial<RegistryClientOptions>;
    env?: Record<string, string>;
  } = {},
): Promise<Harness> {
  const registry = await startFakeRegistry(registryOptions);
  cleanups.push(() => registry.close());
  const env: Record<string, string> = {
    MOLECULE_IMAGE_REGISTRY: `${registry.host}/acme`,
    DOCKER_CONFIG: '/nonexistent-docker-config',
    ...(options.credentials
      ? {
          MOLECULE_REGISTRY_USERNAME: options.credentials.username,
          MOLECULE_REGISTRY_PASSWORD: options.credentials.password,
        }
      : {}),
    ...options.env,
  };
  const events: RegistryRequestEvent[] = [];
  const client = createRegistryClient({
    credentials: createCredentialResolver({ env }),
    env,
    onRequest: (event) => events.push(event),
    retry: { baseDelayMs: 2, maxDelayMs: 10 },
    ...options.client,
  });
  cleanups.push(() => client.close());
  return {
    registry,
    client,
    events,
    env,
    ref: (repository, tag = 'latest') => `${registry.host}/${repository}:${tag}`,
  };
}

/** Everything observable about an error, for "no secret leaks" assertions. */
export function everythingAbout(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const own = Object.fromEntries(
    Object.getOwnPropertyNames(error).map((key) => [
      key,
      (error as unknown as Record<string, unknown>)[key],
    ]),
  );
  return `${error.message}\n${error.stack}\n${JSON.stringify(own, (_key, value) =>
    value instanceof Error ? { ...value, message: value.message } : value,
  )}`;
}

export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
