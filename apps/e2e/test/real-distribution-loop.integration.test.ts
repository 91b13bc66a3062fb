import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Distribution,
  type Dockerd,
  missingRealParts,
  realPartsRequired,
  startDistribution,
  startDockerd,
} from '@molecule/real-parts';
import { KNOWN_RUNTIMES } from '@molecule/registry';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConnectionAudit } from '../src/connection-audit.js';
import { distributionPublisher, type ImagePublisher } from '../src/image-publisher.js';
import { provisionWorkspaces } from '../src/scenario-workspaces.js';
import { type Stack, startStack } from '../src/stack.js';
import { sleep, waitFor } from '../src/wait.js';
import { containerNames, engineClient, waitForContainersGone } from '../src/workspaces.js';
import { summary } from './summary.js';

const missing = missingRealParts(['dockerd', 'docker-registry', 'busybox', 'openssl']);
if (missing && realPartsRequired())
  throw new Error(`CI=true and a real part is missing: ${missing}`);

const USER = 'acme-bot';
const INTERVAL_MS = 2_000;

// The same loop as against the fake registry, once against the real CNCF distribution
// registry with token auth, so the fake is checked against the real thing.
describe.skipIf(Boolean(missing))(
  'the override loop against the real distribution registry (token auth)',
  () => {
    const password = randomBytes(12).toString('hex');
    const adminToken = randomBytes(16).toString('hex');
    const log = summary('real distribution, token auth');
    let dockerd: Dockerd;
    let docker: Docker;
    let distribution: Distribution;
    let publisher: ImagePublisher;
    let stack: Stack;
    let workDir: string;
    /** Every log line of every service process of the run, restarts included. */
    const serviceLines: string[] = [];
    const ref = (runtime: string) => `${publisher.prefix}/workspace-template-${runtime}:latest`;
    const imagewatchTokenRequests = () =>
      (distribution.tokenServer?.requests ?? []).filter(
        (r) => r.scope?.includes(':pull') && !r.scope.includes('push'),
      );

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'e2e-real-'));
      [dockerd, distribution] = await Promise.all([
        startDockerd(),
        startDistribution({
          auth: 'token',
          users: [{ username: USER, password }],
          allowAnonymousPull: false,
        }),
      ]);
      docker = engineClient(dockerd.socketPath);
      publisher = distributionPublisher(distribution, 'acme-mirror', { username: USER, password });
      for (const runtime of KNOWN_RUNTIMES) await publisher.publish(runtime, 'v1');
      await provisionWorkspaces(docker, publisher.prefix, {
        username: USER,
        password,
        serveraddress: distribution.host,
      });
      log(
        `distribution ${distribution.host} holds all runtimes under ${publisher.prefix}; engine runs ${(await containerNames(docker)).join(', ')}`,
      );
      stack = await startStack({
        publisher,
        engineSocketPath: dockerd.socketPath,
        credentials: { username: USER, password },
        workDir,
        interval: `${INTERVAL_MS / 1000}s`,
        adminToken,
        recordConnections: true,
        onLine: (line) => serviceLines.push(JSON.stringify(line)),
      });
      await stack.waitForSeeded(KNOWN_RUNTIMES.length);
    });

    afterAll(async () => {
      await stack?.close();
      await Promise.allSettled([distribution?.close(), dockerd?.close()]);
      if (workDir) await rm(workDir, { recursive: true, force: true });
    });

    it('seeds without refreshing and reuses its tokens across ticks', async () => {
      const tokensAfterSeed = imagewatchTokenRequests().length;
      await sleep(2 * INTERVAL_MS + 500);
      expect(stack.refreshedRuntimes()).toEqual([]);
      expect(imagewatchTokenRequests().length).toBe(tokensAfterSeed);
      for (const request of imagewatchTokenRequests()) expect(request.username).toBe(USER);
      log(`seeded; ${tokensAfterSeed} pull-token requests, none more over two further ticks`);
    });

    it('rolls a pushed image out to exactly the matching workspaces, with an authenticated pull', async () => {
      const digest = await publisher.publish('langgraph', 'v2');
      await waitFor(
        'the langgraph refresh',
        () => (stack.refreshedRuntimes().length > 0 ? true : undefined),
        3 * INTERVAL_MS,
      );
      expect(stack.refreshedRuntimes()).toEqual(['langgraph']);
      await waitForContainersGone(docker, ['ws-e2e-langgraph', 'ws-e2e-legacy-langgraph']);
      expect(await containerNames(docker)).toEqual([
        'e2e-not-a-workspace',
        'ws-e2e-claude-code-default',
        'ws-e2e-codex',
      ]);
      const pull = stack.engineProxy.requests.find((r) => r.url.includes('/images/create'));
      expect(pull?.registryAuth).toMatchObject({
        goUrlEncoding: true,
        serveraddress: distribution.host,
        username: USER,
      });
      const image = await docker.getImage(ref('langgraph')).inspect();
      expect(image.RepoDigests).toContain(
        `${publisher.prefix}/workspace-template-langgraph@${digest}`,
      );
      const audit = readConnectionAudit(stack.connectionLog, [stack.engineProxy.address]);
      expect(audit.violations).toEqual([]);
      log(
        `pushed ${digest.slice(0, 19)}; refreshed langgraph only; authenticated pull as ${USER}; no connection left loopback`,
      );
    });

    it('does not refresh again after a restart, and catches a push made while it was down', async () => {
      await stack.restartImagewatch();
      await sleep(2 * INTERVAL_MS + 500);
      expect(stack.refreshedRuntimes()).toEqual(['langgraph']);
      await stack.stopImagewatch();
      await publisher.publish('codex', 'v2');
      await stack.restartImagewatch();
      await waitFor(
        'the codex refresh',
        () => (stack.refreshedRuntimes().includes('codex') ? true : undefined),
        3 * INTERVAL_MS + 2_000,
      );
      await waitForContainersGone(docker, ['ws-e2e-codex']);
      expect(stack.refreshedRuntimes()).toEqual(['langgraph', 'codex']);
      log(
        'restart caused no second refresh; codex pushed while imagewatch was down was rolled out',
      );
    });

    it('no log line of the run carries a secret, even one a client put in the URL', async () => {
      // Clients that put secrets where they do not belong: in the query string.
      await fetch(
        `${stack.adminApiUrl}/admin/workspace-images?token=${adminToken}&password=${password}`,
        { headers: { authorization: `Bearer ${adminToken}` } },
      );
      await fetch(
        `${stack.adminApiUrl}/admin/workspace-images/refresh?runtime=codex&token=${adminToken}`,
        {
          method: 'POST',
        },
      );
      await fetch(`${stack.imagewatchUrl}/healthz?token=${adminToken}&password=${password}`);
      await fetch(`${stack.imagewatchUrl}/rollouts?access_token=${adminToken}`);
      await sleep(300);
      const redactedRequests = serviceLines.filter((line) => line.includes('[redacted]'));
      // Three request lines (health probes log at debug, below this run's level).
      expect(redactedRequests.length).toBeGreaterThanOrEqual(3);
      expect(serviceLines.length).toBeGreaterThan(50);
      for (const secret of [adminToken, password]) {
        const leaking = serviceLines.filter((line) => line.includes(secret));
        expect(leaking).toEqual([]);
      }
      log(
        `${serviceLines.length} log lines of both services, none with the admin token or the registry password`,
      );
    });
  },
);
