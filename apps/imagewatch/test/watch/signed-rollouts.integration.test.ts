/**
 * The signed-image gate in the watch loop, against the real CNCF distribution registry with
 * token auth and signatures made in cosign's layouts: an unsigned digest is not rolled out (and
 * reported once) until its signature arrives; `warn` rolls out anyway; `off` asks nothing; a
 * steady tick with the gate on is one HEAD per runtime.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BuiltImage,
  buildImage,
  type CosignKeyPair,
  type Distribution,
  generateCosignKeyPair,
  pushImage,
  realPartsGate,
  signImageLegacy,
  signImageWithBundles,
  startDistribution,
} from '@molecule/real-parts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type FakeAdminApi, startFakeAdminApi } from '../fake-admin-api.js';
import { memoryLogger, tempDir } from '../helpers.js';
import { startService, type TestService } from '../service.js';

const gate = realPartsGate(['docker-registry', 'openssl', 'busybox']);
const USER = { username: 'signer', password: 'signed-dist-pa55-secret' };
const TOKEN = 'signed-admin-token';
const REPOSITORY = 'molecule-ai/workspace-template-langgraph';

describe.skipIf(gate.skip)(`the signed-image gate in the watch loop ${gate.reason ?? ''}`, () => {
  let registry: Distribution;
  let admin: FakeAdminApi;
  let dir: string;
  let cleanup: () => Promise<void>;
  let k1: CosignKeyPair;
  let k2: CosignKeyPair;
  const services: TestService[] = [];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    registry = await startDistribution({ auth: 'token', users: [USER] });
    k1 = generateCosignKeyPair();
    k2 = generateCosignKeyPair('ed25519');
    await writeFile(join(dir, 'keys.pem'), `${k1.publicKeyPem}\n${k2.publicKeyPem}`);
  });
  afterEach(async () => {
    for (const service of services.splice(0)) await service.close({ graceMs: 500 });
    await admin?.close();
  });
  afterAll(async () => {
    await registry?.close();
    await cleanup();
  });

  async function push(salt: string): Promise<BuiltImage> {
    const image = await buildImage({ salt });
    await pushImage({
      registryUrl: registry.url,
      repository: REPOSITORY,
      tag: 'latest',
      image,
      credentials: USER,
    });
    return image;
  }
  const target = { registryUrl: '', repository: REPOSITORY, credentials: USER };

  async function start(mode: string, state: string) {
    admin = await startFakeAdminApi({ token: TOKEN, prefix: `${registry.host}/molecule-ai` });
    const log = memoryLogger();
    const config = loadConfig({
      MOLECULE_IMAGE_REGISTRY: `${registry.host}/molecule-ai`,
      MOLECULE_REGISTRY_USERNAME: USER.username,
      MOLECULE_REGISTRY_PASSWORD: USER.password,
      IMAGE_WATCH_RUNTIMES: 'langgraph',
      IMAGE_AUTO_REFRESH: 'true',
      MOLECULE_ADMIN_TOKEN: TOKEN,
      MOLECULE_ADMIN_API_URL: admin.url,
      IMAGE_WATCH_STATE_FILE: join(dir, `${state}.json`),
      IMAGE_WATCH_INTERVAL: '1h',
      MOLECULE_IMAGE_SIGNING_KEYS: join(dir, 'keys.pem'),
      MOLECULE_IMAGE_SIGNATURES: mode,
      DOCKER_CONFIG: dir,
    });
    const service = await startService(config, { logger: log.logger });
    services.push(service);
    return { service, log };
  }

  async function requests(service: TestService) {
    const text = await service.metrics.registry.metrics();
    const count = (kind: string) =>
      [
        ...text.matchAll(
          new RegExp(
            `imagewatch_registry_requests_total\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)`,
            'g',
          ),
        ),
      ].reduce((sum, m) => sum + Number(m[1]), 0);
    return { manifest: count('manifest'), blob: count('blob'), referrers: count('referrers') };
  }

  it('enforce: an unsigned push is not rolled out and reported once; once signed it is rolled out by digest; a steady tick is one HEAD', async () => {
    await push('enforce-v1');
    const { service, log } = await start('enforce', 'enforce');
    const image = `${registry.host}/${REPOSITORY}:latest`;
    expect((await service.app.watcher.tick()).results[0]!.outcome).toBe('seeded');
    const v2 = await push('enforce-v2');

    const first = await service.app.watcher.tick();
    expect(first.results[0]).toMatchObject({
      outcome: 'untrusted',
      trust: {
        kind: 'verdict',
        allowed: false,
        verdict: { status: 'unsigned', reason: 'NO_SIGNATURE' },
      },
    });
    const again = await service.app.watcher.tick();
    expect(again.results[0]!.outcome).toBe('untrusted');
    expect(admin.refreshes).toEqual([]);
    expect((await service.store.seenDigest(image))?.digest).not.toBe(v2.digest);
    expect(log.lines().filter((l) => String(l.msg).startsWith('untrusted digest'))).toHaveLength(1);
    expect(await service.metrics.registry.metrics()).toMatch(
      /imagewatch_untrusted_digests_total\{runtime="langgraph"\} 1/,
    );

    // A signature by one configured key in the legacy format arrives: the next tick rolls out.
    await signImageLegacy({ ...target, registryUrl: registry.url, digest: v2.digest, keys: [k1] });
    const signed = await service.app.watcher.tick();
    expect(signed.results[0]).toMatchObject({
      outcome: 'changed',
      trust: { verdict: { status: 'trusted', signers: [k1.keyId] } },
    });
    await service.rolloutsSettled();
    expect(admin.refreshes.map((c) => [c.runtime, c.digest])).toEqual([['langgraph', v2.digest]]);
    expect((await service.store.seenDigest(image))?.digest).toBe(v2.digest);

    // Steady: one HEAD per runtime, no signature requests (the verdict is not needed again).
    const before = await requests(service);
    await service.app.watcher.tick();
    const after = await requests(service);
    expect(after.manifest - before.manifest).toBe(1);
    expect(after.blob - before.blob).toBe(0);
    expect(after.referrers - before.referrers).toBe(0);
  });

  it('enforce with bundles: a cosign 3 bundle through the referrers tag schema is trusted', async () => {
    await push('bundle-v1');
    const { service } = await start('enforce', 'bundle');
    await service.app.watcher.tick();
    const v2 = await push('bundle-v2');
    await signImageWithBundles({
      ...target,
      registryUrl: registry.url,
      subject: {
        digest: v2.digest,
        mediaType: v2.manifest.mediaType,
        size: v2.manifest.body.length,
      },
      keys: [k2],
    });
    const report = await service.app.watcher.tick();
    expect(report.results[0]).toMatchObject({
      outcome: 'changed',
      trust: { verdict: { status: 'trusted', formats: ['sigstore-bundle'] } },
    });
    await service.rolloutsSettled();
    expect(admin.refreshes.map((c) => c.digest)).toEqual([v2.digest]);
  });

  it('warn: an unsigned push is reported and rolled out anyway', async () => {
    await push('warn-v1');
    const { service, log } = await start('warn', 'warn');
    await service.app.watcher.tick();
    const v2 = await push('warn-v2');
    const report = await service.app.watcher.tick();
    expect(report.results[0]).toMatchObject({ outcome: 'changed', trust: { allowed: true } });
    await service.rolloutsSettled();
    expect(admin.refreshes.map((c) => c.digest)).toEqual([v2.digest]);
    expect(log.lines().some((l) => String(l.msg).startsWith('untrusted digest (warn mode'))).toBe(
      true,
    );
  });

  it('off: no signature requests at all', async () => {
    await push('off-v1');
    const { service } = await start('off', 'off');
    await service.app.watcher.tick();
    const v2 = await push('off-v2');
    await service.app.watcher.tick();
    await service.rolloutsSettled();
    expect(admin.refreshes.map((c) => c.digest)).toEqual([v2.digest]);
    const counted = await requests(service);
    expect(counted.blob + counted.referrers).toBe(0);
  });
});
