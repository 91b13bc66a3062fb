/**
 * The whole loop with the signed-image gate on (SPEC "Signed-image gate"): both built services
 * as processes with MOLECULE_IMAGE_SIGNING_KEYS and `enforce`, a private dockerd, the real CNCF
 * distribution registry with token auth, and signatures in cosign's legacy `.sig` layout. A
 * signed push is rolled out; an unsigned one is not, over several ticks, and is reported once,
 * until its signature arrives; admin-api refuses an unsigned digest asked for by hand.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildImage,
  type CosignKeyPair,
  type Distribution,
  type Dockerd,
  generateCosignKeyPair,
  missingRealParts,
  pushImage,
  realPartsRequired,
  signImageLegacy,
  startDistribution,
  startDockerd,
} from '@molecule/real-parts';
import { KNOWN_RUNTIMES, type Runtime } from '@molecule/registry';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  distributionPublisher,
  type ImagePublisher,
  templateRepository,
} from '../src/image-publisher.js';
import { provisionWorkspaces, SCENARIO_CONTAINERS } from '../src/scenario-workspaces.js';
import type { LogLine } from '../src/service-process.js';
import { type Stack, startStack } from '../src/stack.js';
import { waitFor } from '../src/wait.js';
import {
  containerNames,
  engineClient,
  repoDigests,
  waitForContainersGone,
} from '../src/workspaces.js';
import { summary } from './summary.js';

const missing = missingRealParts(['dockerd', 'docker-registry', 'busybox', 'openssl']);
if (missing && realPartsRequired())
  throw new Error(`CI=true and a real part is missing: ${missing}`);

const USER = 'acme-signer';
const PREFIX_PATH = 'acme-signed';
const INTERVAL_MS = 2_000;
/** Ticks an unsigned digest is left waiting, to show it stays out on every one of them. */
const UNSIGNED_TICKS = 4;

describe.skipIf(Boolean(missing))(
  'the override loop with the signed-image gate enforced (real distribution, token auth)',
  () => {
    const password = randomBytes(12).toString('hex');
    const adminToken = randomBytes(16).toString('hex');
    const log = summary('signed-image gate');
    let dockerd: Dockerd;
    let docker: Docker;
    let distribution: Distribution;
    let publisher: ImagePublisher;
    let stack: Stack;
    let workDir: string;
    let signer: CosignKeyPair;
    const ref = (runtime: string) => `${publisher.prefix}/workspace-template-${runtime}:latest`;
    const repoDigest = (runtime: string, digest: string) =>
      `${publisher.prefix}/workspace-template-${runtime}@${digest}`;
    const signTarget = (runtime: Runtime) => ({
      registryUrl: distribution.url,
      repository: templateRepository(PREFIX_PATH, runtime),
      credentials: { username: USER, password },
    });
    const sign = (runtime: Runtime, digest: string, keys = [signer]) =>
      signImageLegacy({ ...signTarget(runtime), digest, keys });
    const imagewatchLines = (predicate: (line: LogLine) => boolean) =>
      stack.imagewatch.lines.filter(predicate);
    const untrustedReports = (runtime: Runtime) =>
      imagewatchLines(
        (line) => line.runtime === runtime && String(line.msg).startsWith('untrusted digest'),
      );
    const ticksDone = () => imagewatchLines((line) => line.msg === 'tick done').length;
    /** The refresh calls imagewatch made, with the digest each asked for. */
    const refreshCalls = () =>
      stack.adminProxy.requests
        .filter((r) => r.method === 'POST' && r.url.startsWith('/admin/workspace-images/refresh'))
        .map((r) => {
          const params = new URL(r.url, 'http://x').searchParams;
          return [params.get('runtime'), params.get('digest')];
        });

    const pullsOf = (runtime: Runtime) =>
      stack
        .pulledReferences()
        .filter((reference) => reference.includes(`/workspace-template-${runtime}`));

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'e2e-signed-'));
      [dockerd, distribution] = await Promise.all([
        startDockerd(),
        startDistribution({
          auth: 'token',
          users: [{ username: USER, password }],
          allowAnonymousPull: false,
        }),
      ]);
      docker = engineClient(dockerd.socketPath);
      publisher = distributionPublisher(distribution, PREFIX_PATH, { username: USER, password });
      signer = generateCosignKeyPair();
      // A second configured key that signs nothing: one valid signature meets threshold 1.
      const spare = generateCosignKeyPair();
      const keysFile = join(workDir, 'cosign.pub');
      await writeFile(keysFile, `${signer.publicKeyPem}\n${spare.publicKeyPem}`);
      for (const runtime of KNOWN_RUNTIMES) {
        await sign(runtime, await publisher.publish(runtime, 'v1'));
      }
      await provisionWorkspaces(docker, publisher.prefix, {
        username: USER,
        password,
        serveraddress: distribution.host,
      });
      stack = await startStack({
        publisher,
        engineSocketPath: dockerd.socketPath,
        credentials: { username: USER, password },
        workDir,
        interval: `${INTERVAL_MS / 1000}s`,
        adminToken,
        extraEnv: {
          MOLECULE_IMAGE_SIGNING_KEYS: keysFile,
          MOLECULE_IMAGE_SIGNATURES: 'enforce',
        },
      });
      await stack.waitForSeeded(KNOWN_RUNTIMES.length);
      log(
        `distribution ${distribution.host} (token auth) holds every runtime, each signed; both services enforce 2 keys from ${keysFile}; engine runs ${(await containerNames(docker)).join(', ')}`,
      );
    });

    afterAll(async () => {
      await stack?.close();
      await Promise.allSettled([distribution?.close(), dockerd?.close()]);
      if (workDir) await rm(workDir, { recursive: true, force: true });
    });

    it('rolls out a push whose signature was published before it', async () => {
      const image = await buildImage({ salt: 'langgraph-signed-v2' });
      // The `.sig` tag first, then the image: the first tick that sees the digest trusts it.
      await sign('langgraph', image.digest);
      await pushImage({
        registryUrl: distribution.url,
        repository: templateRepository(PREFIX_PATH, 'langgraph'),
        tag: 'latest',
        image,
        credentials: { username: USER, password },
      });
      await waitFor(
        'the langgraph refresh',
        () => (stack.refreshedRuntimes().length > 0 ? true : undefined),
        3 * INTERVAL_MS,
      );
      expect(refreshCalls()).toEqual([['langgraph', image.digest]]);
      await waitForContainersGone(docker, [
        SCENARIO_CONTAINERS.langgraph,
        SCENARIO_CONTAINERS.legacyLanggraph,
      ]);
      // admin-api verified it again and pulled it by that digest, not by the tag.
      expect(pullsOf('langgraph')).toEqual([expect.stringContaining(image.digest)]);
      expect(await containerNames(docker)).toEqual([
        SCENARIO_CONTAINERS.notAWorkspace,
        SCENARIO_CONTAINERS.lookalike,
        SCENARIO_CONTAINERS.codex,
      ]);
      expect(await repoDigests(docker, ref('langgraph'))).toContain(
        repoDigest('langgraph', image.digest),
      );
      expect(untrustedReports('langgraph')).toEqual([]);
      expect(stack.adminApi.lines.filter((l) => l.code === 'UNTRUSTED_IMAGE')).toEqual([]);
      log(
        `signed push ${image.digest.slice(0, 19)} of langgraph: refreshed with digest=, old workspaces removed, :latest is that digest in the engine`,
      );
    });

    it('holds an unsigned push back over several ticks, reporting it once, until it is signed', async () => {
      const digest = await publisher.publish('codex', 'unsigned-v2');
      const ticksBefore = ticksDone();
      await stack.imagewatch.waitForLine(
        (line) => line.runtime === 'codex' && String(line.msg).startsWith('untrusted digest'),
        3 * INTERVAL_MS,
        'the untrusted codex digest to be reported',
      );
      await waitFor(
        `${UNSIGNED_TICKS} more ticks`,
        () => (ticksDone() - ticksBefore >= UNSIGNED_TICKS ? true : undefined),
        (UNSIGNED_TICKS + 2) * INTERVAL_MS,
      );
      expect(stack.refreshedRuntimes()).toEqual(['langgraph']);
      const reports = untrustedReports('codex');
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({
        status: 'unsigned',
        reason: 'NO_SIGNATURE',
        mode: 'enforce',
      });
      expect((await stack.readSeenDigests())[ref('codex')]).not.toBe(digest);
      expect(await containerNames(docker)).toContain(SCENARIO_CONTAINERS.codex);
      expect(await repoDigests(docker, ref('codex'))).not.toContain(repoDigest('codex', digest));
      const metrics = await (await fetch(`${stack.imagewatchUrl}/metrics`)).text();
      expect(metrics).toMatch(/imagewatch_untrusted_digests_total\{runtime="codex"\} 1\b/);
      log(
        `unsigned push ${digest.slice(0, 19)} of codex: ${ticksDone() - ticksBefore} ticks, no refresh, reported once (${String(reports[0]?.reason)})`,
      );

      await sign('codex', digest);
      const signedAt = ticksDone();
      await waitFor(
        'the codex refresh',
        () => (stack.refreshedRuntimes().includes('codex') ? true : undefined),
        3 * INTERVAL_MS,
      );
      expect(refreshCalls().at(-1)).toEqual(['codex', digest]);
      expect(stack.refreshedRuntimes()).toEqual(['langgraph', 'codex']);
      await waitForContainersGone(docker, [SCENARIO_CONTAINERS.codex]);
      expect(pullsOf('codex')).toEqual([expect.stringContaining(digest)]);
      expect(await repoDigests(docker, ref('codex'))).toContain(repoDigest('codex', digest));
      expect(await stack.readSeenDigests()).toMatchObject({ [ref('codex')]: digest });
      expect(untrustedReports('codex')).toHaveLength(1);
      log(
        `signature published: rolled out ${ticksDone() - signedAt <= 1 ? 'on the next tick' : `within ${ticksDone() - signedAt} ticks`}; codex workspace removed, :latest is that digest`,
      );
    });

    it('admin-api refuses an unsigned digest asked for by hand, and pulls nothing', async () => {
      const runtime: Runtime = 'crewai';
      const digest = await publisher.publish(runtime, 'unsigned-by-hand');
      const pullsBefore = stack.pulledReferences().length;
      const response = await fetch(
        `${stack.adminApiUrl}/admin/workspace-images/refresh?runtime=${runtime}`,
        { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } },
      );
      const body = (await response.json()) as {
        pulled: string[];
        failed: string[];
        errors: Array<{ code: string; runtime?: string; message: string }>;
      };
      expect(body.pulled).toEqual([]);
      expect(body.failed).toEqual([runtime]);
      expect(body.errors).toEqual([
        expect.objectContaining({ runtime, code: 'UNTRUSTED_IMAGE', stage: 'trust' }),
      ]);
      expect(body.errors[0]?.message).toContain(digest);
      expect(stack.pulledReferences().length).toBe(pullsBefore);
      expect(await repoDigests(docker, ref(runtime))).toEqual([]);
      log(
        `hand refresh of unsigned ${runtime} ${digest.slice(0, 19)}: HTTP ${response.status}, failed with UNTRUSTED_IMAGE, nothing pulled`,
      );
    });
  },
);
