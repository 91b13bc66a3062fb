/**
 * Digest-check benchmark against the in-process fake registry (bearer auth).
 *
 *   pnpm --filter @molecule/registry-client bench
 *
 * 1. Requests per check over 20 repeated checks of 9 refs (steady state must be 1.0).
 * 2. 1,000 refs with 20 ms added per request: this client (bounded concurrency, shared
 *    tokens and connections) against the old behaviour (one by one, a fresh token each time).
 *
 * BENCH_REFS and BENCH_LATENCY_MS override the workload size and latency.
 */
import { startFakeRegistry } from '@molecule/fake-registry';
import { request } from 'undici';
import { createCredentialResolver, createRegistryClient } from '../src/index.js';

const USER = { username: 'bench', password: 'bench-password' };
const REFS = Number(process.env.BENCH_REFS ?? 1000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

async function main(): Promise<void> {
  const registry = await startFakeRegistry({ auth: 'bearer', users: [USER] });
  const env = {
    MOLECULE_IMAGE_REGISTRY: `${registry.host}/bench`,
    MOLECULE_REGISTRY_USERNAME: USER.username,
    MOLECULE_REGISTRY_PASSWORD: USER.password,
    DOCKER_CONFIG: '/nonexistent-docker-config',
  };
  try {
    await requestsPerCheck(registry, env);
    await thousandRefs(registry, env);
  } finally {
    await registry.close();
  }
}

type Registry = Awaited<ReturnType<typeof startFakeRegistry>>;

async function requestsPerCheck(registry: Registry, env: Record<string, string>): Promise<void> {
  const refs = Array.from({ length: 9 }, (_, i) => {
    registry.pushRandomImage(`bench/rt${i}`);
    return `${registry.host}/bench/rt${i}:latest`;
  });
  let requests = 0;
  const client = createRegistryClient({
    credentials: createCredentialResolver({ env }),
    env,
    onRequest: () => requests++,
  });
  const perRound: number[] = [];
  for (let round = 0; round < 20; round++) {
    const before = requests;
    await Promise.all(refs.map((ref) => client.getManifestDigest(ref)));
    perRound.push(requests - before);
  }
  await client.close();
  const total = perRound.reduce((a, b) => a + b, 0);
  const steady = perRound.slice(1).reduce((a, b) => a + b, 0);
  console.log('## Requests per check (20 rounds × 9 refs, bearer auth)');
  console.log(`first round: ${perRound[0]} requests for 9 checks (1 ping + 9 tokens + 9 HEAD)`);
  console.log(
    `all 20 rounds: ${total} requests / 180 checks = ${(total / 180).toFixed(3)} per check`,
  );
  console.log(
    `steady state (rounds 2-20): ${steady} / 171 = ${(steady / 171).toFixed(3)} per check\n`,
  );
}

async function thousandRefs(registry: Registry, env: Record<string, string>): Promise<void> {
  const repositories = 10;
  const refs: string[] = [];
  for (let i = 0; i < REFS; i++) {
    const repository = `bench/many${i % repositories}`;
    const tag = `t${i}`;
    registry.pushRandomImage(repository, tag);
    refs.push(`${registry.host}/${repository}:${tag}`);
  }
  registry.setLatency(LATENCY_MS);
  registry.clearRequests();

  let requests = 0;
  const client = createRegistryClient({
    credentials: createCredentialResolver({ env }),
    env,
    concurrencyPerHost: CONCURRENCY,
    onRequest: () => requests++,
  });
  const started = performance.now();
  const results = await Promise.all(refs.map((ref) => client.getManifestDigest(ref)));
  const clientMs = performance.now() - started;
  await client.close();
  verify(
    registry,
    refs,
    results.map((r) => r.digest),
  );

  registry.clearRequests();
  const baselineStarted = performance.now();
  const baselineDigests: string[] = [];
  for (const ref of refs) baselineDigests.push(await oldStyleDigest(registry, ref));
  const baselineMs = performance.now() - baselineStarted;
  const baselineRequests = registry.requests.length;
  verify(registry, refs, baselineDigests);

  const ideal = Math.ceil(REFS / CONCURRENCY) * LATENCY_MS;
  console.log(`## ${REFS} refs (${repositories} repositories), ${LATENCY_MS} ms added per request`);
  console.log(
    `client, concurrencyPerHost ${CONCURRENCY}: ${clientMs.toFixed(0)} ms, ${requests} requests (ideal ceil(${REFS}/${CONCURRENCY}) × ${LATENCY_MS} ms = ${ideal} ms)`,
  );
  console.log(
    `baseline, one by one with a fresh token each: ${baselineMs.toFixed(0)} ms, ${baselineRequests} requests`,
  );
  console.log(`speed-up: ${(baselineMs / clientMs).toFixed(1)}×`);
}

/** The replaced behaviour: fetch a token for every check, then HEAD, strictly in sequence. */
async function oldStyleDigest(registry: Registry, ref: string): Promise<string> {
  const path = ref.slice(registry.host.length + 1);
  const [repository, tag] = path.split(':') as [string, string];
  const realm = new URL(registry.realmUrl!);
  realm.searchParams.set('service', registry.service);
  realm.searchParams.set('scope', `repository:${repository}:pull`);
  const basic = Buffer.from(`${USER.username}:${USER.password}`).toString('base64');
  const tokenResponse = await request(realm, { headers: { authorization: `Basic ${basic}` } });
  const { token } = (await tokenResponse.body.json()) as { token: string };
  const head = await request(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  await head.body.dump();
  return String(head.headers['docker-content-digest']);
}

function verify(registry: Registry, refs: readonly string[], digests: readonly string[]): void {
  refs.forEach((ref, i) => {
    const path = ref.slice(registry.host.length + 1);
    const [repository, tag] = path.split(':') as [string, string];
    if (registry.digestOf(repository, tag) !== digests[i])
      throw new Error(`wrong digest for ${ref}`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
