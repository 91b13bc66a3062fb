import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeAuthMode, type FakeRegistry, startFakeRegistry } from '@molecule/fake-registry';
import {
  type Dockerd,
  missingRealParts,
  realPartsRequired,
  startDockerd,
} from '@molecule/real-parts';
import { KNOWN_RUNTIMES } from '@molecule/registry';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConnectionAudit } from '../src/connection-audit.js';
import { fakeRegistryPublisher, templateRepository } from '../src/image-publisher.js';
import { provisionWorkspaces } from '../src/scenario-workspaces.js';
import { type Stack, startStack } from '../src/stack.js';
import { waitFor } from '../src/wait.js';
import { containerNames, engineClient, waitForContainersGone } from '../src/workspaces.js';
import { summary } from './summary.js';

const missing = missingRealParts(['dockerd', 'busybox']);
if (missing && realPartsRequired())
  throw new Error(`CI=true and a real part is missing: ${missing}`);

const PREFIX_PATH = 'acme-mirror';
const USER = 'acme-bot';
const INTERVAL_MS = 2_000;

describe.skipIf(Boolean(missing))(
  'the MOLECULE_IMAGE_REGISTRY override loop, against the fake registry',
  () => {
    let dockerd: Dockerd;
    let docker: Docker;
    beforeAll(async () => {
      dockerd = await startDockerd();
      docker = engineClient(dockerd.socketPath);
    });
    afterAll(async () => {
      await dockerd?.close();
    });

    describe.each<FakeAuthMode>(['bearer', 'bearer-external-realm', 'basic'])(
      'auth flavour %s',
      (auth) => {
        const password = randomBytes(12).toString('hex');
        const adminToken = randomBytes(16).toString('hex');
        const log = summary(`fake registry, ${auth}`);
        let registry: FakeRegistry;
        let stack: Stack;
        let workDir: string;
        let prefix: string;
        const ref = (runtime: string) => `${prefix}/workspace-template-${runtime}:latest`;
        const manifestHeads = () =>
          registry.requests.filter((r) => r.kind === 'manifest' && r.method === 'HEAD');

        beforeAll(async () => {
          workDir = await mkdtemp(join(tmpdir(), 'e2e-'));
          registry = await startFakeRegistry({
            auth,
            users: [{ username: USER, password }],
            allowAnonymousPull: false,
          });
          const publisher = fakeRegistryPublisher(registry, PREFIX_PATH);
          prefix = publisher.prefix;
          for (const runtime of KNOWN_RUNTIMES) await publisher.publish(runtime, 'v1');
          log(
            `registry ${registry.host} (${auth}) holds all ${KNOWN_RUNTIMES.length} runtimes under ${prefix}`,
          );

          await provisionWorkspaces(docker, prefix, {
            username: USER,
            password,
            serveraddress: registry.host,
          });
          log(`engine runs: ${(await containerNames(docker)).join(', ')}`);

          registry.clearRequests();
          stack = await startStack({
            publisher,
            engineSocketPath: dockerd.socketPath,
            credentials: { username: USER, password },
            workDir,
            interval: `${INTERVAL_MS / 1000}s`,
            adminToken,
            recordConnections: true,
          });
          const seen = await stack.waitForSeeded(KNOWN_RUNTIMES.length);
          log(`imagewatch seeded ${Object.keys(seen).length} references without refreshing`);
        });

        afterAll(async () => {
          await stack?.close();
          await registry?.close();
          if (workDir) await rm(workDir, { recursive: true, force: true });
        });

        it('1. the watcher pings, gets tokens and HEADs manifests on the configured registry, with the configured credentials, reusing tokens', async () => {
          await waitFor(
            'two full ticks',
            () => (manifestHeads().length >= 2 * KNOWN_RUNTIMES.length ? true : undefined),
            15_000,
          );
          const firstTick = registry.requests.slice();
          const tokensAfterFirstTicks = firstTick.filter((r) => r.kind === 'token').length;
          await waitFor(
            'two more ticks',
            () => (manifestHeads().length >= 4 * KNOWN_RUNTIMES.length ? true : undefined),
            15_000,
          );

          const heads = manifestHeads();
          const headPaths = new Set(heads.map((r) => r.path));
          expect([...headPaths].sort()).toEqual(
            KNOWN_RUNTIMES.map(
              (rt) => `/v2/${templateRepository(PREFIX_PATH, rt)}/manifests/latest`,
            ).sort(),
          );
          for (const head of heads) {
            expect(head.status).toBe(200);
            expect(head.presented.scheme).toBe(auth === 'basic' ? 'basic' : 'bearer');
            if (auth === 'basic') expect(head.presented.username).toBe(USER);
          }
          // The first contact is the /v2/ ping that yields the challenge; with the
          // challenge cached, later ticks do not ping again.
          const pings = registry.requests.filter((r) => r.kind === 'ping');
          expect(pings.length).toBeGreaterThan(0);
          expect(pings.length).toBeLessThanOrEqual(2);
          const tokens = registry.requests.filter((r) => r.kind === 'token');
          if (auth === 'basic') {
            expect(tokens).toHaveLength(0);
          } else {
            expect(tokens.length).toBeGreaterThan(0);
            for (const token of tokens)
              expect(token.presented).toMatchObject({ scheme: 'basic', username: USER });
            // Reuse: the later ticks fetched no token at all.
            expect(tokens.length).toBe(tokensAfterFirstTicks);
            expect(tokens.length).toBeLessThanOrEqual(KNOWN_RUNTIMES.length);
          }
          expect(stack.refreshedRuntimes()).toEqual([]);
          log(
            `1. ${pings.length} ping, ${heads.length} manifest HEADs on ${registry.host}, ${tokens.length} token requests over 4 ticks, all as ${USER}; nothing refreshed on first sight`,
          );
        });

        it('2. a digest pushed for one runtime is noticed within one interval and only that runtime is refreshed', async () => {
          const publisher = fakeRegistryPublisher(registry, PREFIX_PATH);
          const pushedAt = Date.now();
          const digest = await publisher.publish('langgraph', 'v2');
          await waitFor(
            'a refresh request',
            () => (stack.refreshedRuntimes().length > 0 ? true : undefined),
            3 * INTERVAL_MS,
          );
          const latency = Date.now() - pushedAt;
          // Within one interval: the next tick (interval ±10% jitter) notices it, plus the tick itself.
          expect(latency).toBeLessThan(1.1 * INTERVAL_MS + 1_000);
          expect(stack.refreshedRuntimes()).toEqual(['langgraph']);
          const refresh = stack.adminProxy.requests.find((r) =>
            r.url.startsWith('/admin/workspace-images/refresh'),
          );
          // By digest: every host gets exactly the bytes imagewatch saw, whatever the tag does.
          expect(refresh?.url).toBe(
            `/admin/workspace-images/refresh?runtime=langgraph&recreate=true&digest=${encodeURIComponent(digest)}`,
          );
          expect(refresh?.bearerMatched).toBe(true);
          log(
            `2. pushed ${digest.slice(0, 19)}; imagewatch asked admin-api to refresh langgraph ${latency} ms later`,
          );
        });

        it('3. admin-api pulls from the configured registry with X-Registry-Auth for its host and removes exactly the matching ws-* containers', async () => {
          await waitForContainersGone(docker, ['ws-e2e-langgraph', 'ws-e2e-legacy-langgraph']);
          expect(await containerNames(docker)).toEqual([
            'e2e-not-a-workspace',
            'ws-e2e-claude-code-default',
            'ws-e2e-codex',
          ]);
          // Pulled by digest, then tagged as the runtime's :latest.
          const seen = (await stack.readSeenDigests())[ref('langgraph')];
          expect(stack.pulledReferences()).toEqual([
            `${ref('langgraph').replace(/:latest$/, '')}@${seen}`,
          ]);
          const pulls = stack.engineProxy.requests.filter((r) => r.url.includes('/images/create'));
          expect(pulls).toHaveLength(1);
          expect(pulls[0]?.registryAuth).toEqual({
            goUrlEncoding: true,
            serveraddress: registry.host,
            username: USER,
            hasPassword: true,
            hasIdentityToken: false,
          });
          // The registry refuses anonymous pulls: the engine's manifest and blob GETs carried
          // the operator's credentials, which it can only have had from X-Registry-Auth.
          const engineReads = registry.requests.filter(
            (r) => r.method === 'GET' && (r.kind === 'manifest' || r.kind === 'blob'),
          );
          expect(engineReads.length).toBeGreaterThan(0);
          for (const read of engineReads) expect(read.status).toBeLessThan(400);
          const anonymousRefused = registry.requests.filter(
            (r) => r.presented.scheme === 'none' && r.kind !== 'ping',
          );
          for (const request of anonymousRefused) expect(request.status).toBe(401);
          const image = await docker.getImage(ref('langgraph')).inspect();
          expect(image.RepoDigests).toContain(
            `${prefix}/workspace-template-langgraph@${registry.digestOf(templateRepository(PREFIX_PATH, 'langgraph'), 'latest')}`,
          );
          log(
            `3. engine pulled ${ref('langgraph')} with serveraddress=${pulls[0]?.registryAuth?.serveraddress}; removed ws-e2e-langgraph and ws-e2e-legacy-langgraph (old ghcr.io reference); kept the other three`,
          );
        });

        it('4. no service connected to, or looked up, anything but loopback and the engine socket', async () => {
          const audit = readConnectionAudit(stack.connectionLog, [stack.engineProxy.address]);
          expect(
            audit.events.some(
              (e) => e.type === 'connect' && 'port' in e && `127.0.0.1:${e.port}` === registry.host,
            ),
          ).toBe(true);
          expect(audit.events.some((e) => e.type === 'connect' && 'path' in e)).toBe(true);
          expect(audit.violations).toEqual([]);
          log(
            `4. ${audit.events.length} connections and lookups recorded, none outside loopback and the engine socket`,
          );
        });

        it('5. a restart does not refresh again, and an image pushed while imagewatch was down is still rolled out', async () => {
          await stack.restartImagewatch();
          const before = manifestHeads().length;
          await waitFor(
            'two ticks after the restart',
            () => (manifestHeads().length >= before + 2 * KNOWN_RUNTIMES.length ? true : undefined),
            15_000,
          );
          expect(stack.refreshedRuntimes()).toEqual(['langgraph']);

          await stack.stopImagewatch();
          await fakeRegistryPublisher(registry, PREFIX_PATH).publish('codex', 'v2');
          await stack.restartImagewatch();
          await waitFor(
            'the codex refresh',
            () => (stack.refreshedRuntimes().includes('codex') ? true : undefined),
            3 * INTERVAL_MS + 2_000,
          );
          await waitForContainersGone(docker, ['ws-e2e-codex']);
          expect(stack.refreshedRuntimes()).toEqual(['langgraph', 'codex']);
          expect(await containerNames(docker)).toEqual([
            'e2e-not-a-workspace',
            'ws-e2e-claude-code-default',
          ]);
          log(
            '5. restart: no second refresh; codex pushed while imagewatch was down was rolled out after it started',
          );
        });
      },
    );
  },
);
