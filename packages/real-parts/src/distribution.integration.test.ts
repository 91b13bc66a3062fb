import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRealParts, realPartsGate } from './binaries.js';
import { type Distribution, startDistribution } from './distribution.js';
import { isRealPartsError } from './errors.js';
import { type BuiltImage, buildImage, DOCKER_MANIFEST_V2, SALT_LABEL } from './image.js';
import { parseChallenge, pushImage } from './push.js';

const gate = realPartsGate(['docker-registry', 'htpasswd', 'openssl', 'busybox']);
const PASSWORD = 'dist-pass-8c1e';
const users = [{ username: 'alice', password: PASSWORD }];
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** GET a manifest the way a pulling client does: answer a Bearer challenge with a pull token. */
async function getManifest(
  registry: Distribution,
  repository: string,
  reference: string,
  credentials?: { username: string; password: string },
): Promise<Response> {
  const url = `${registry.url}/v2/${repository}/manifests/${reference}`;
  const accept = { accept: DOCKER_MANIFEST_V2 };
  const first = await fetch(url, { headers: accept });
  if (first.status !== 401) return first;
  const { scheme, params } = parseChallenge(first.headers.get('www-authenticate') ?? '');
  if (scheme === 'basic') {
    if (!credentials) return first;
    return fetch(url, {
      headers: { ...accept, authorization: basic(credentials.username, credentials.password) },
    });
  }
  const tokenUrl = `${params.realm}?service=${params.service}&scope=repository:${repository}:pull`;
  const tokenResponse = await fetch(
    tokenUrl,
    credentials
      ? { headers: { authorization: basic(credentials.username, credentials.password) } }
      : {},
  );
  if (!tokenResponse.ok) return tokenResponse;
  const { token } = (await tokenResponse.json()) as { token: string };
  return fetch(url, { headers: { ...accept, authorization: `Bearer ${token}` } });
}

async function pushError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the push to fail');
}

describe.skipIf(gate.skip)(`startDistribution ${gate.reason ?? ''}`, () => {
  let image: BuiltImage;
  beforeAll(async () => {
    image = await buildImage({ salt: 'distribution-test' });
  });

  describe("auth 'none'", () => {
    let registry: Distribution;
    beforeAll(async () => {
      registry = await startDistribution();
    });
    afterAll(() => registry?.close());

    it('answers GET /v2/ with 200 on loopback', async () => {
      expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(registry.url).toBe(`http://${registry.host}`);
      const response = await fetch(`${registry.url}/v2/`);
      expect(response.status).toBe(200);
    });

    it('serves a pushed manifest by tag with its Docker-Content-Digest, and moves the tag', async () => {
      const digest = await pushImage({
        registryUrl: registry.url,
        repository: 'acme/app',
        tag: 'latest',
        image,
      });
      expect(digest).toBe(image.digest);
      const response = await getManifest(registry, 'acme/app', 'latest');
      expect(response.status).toBe(200);
      expect(response.headers.get('docker-content-digest')).toBe(image.digest);
      expect(Buffer.from(await response.arrayBuffer()).equals(image.manifest.body)).toBe(true);

      const next = await buildImage({ salt: 'distribution-test-2' });
      expect(
        await pushImage({
          registryUrl: registry.url,
          repository: 'acme/app',
          tag: 'latest',
          image: next,
        }),
      ).toBe(next.digest);
      const moved = await getManifest(registry, 'acme/app', 'latest');
      expect(moved.headers.get('docker-content-digest')).toBe(next.digest);
      // the layer was skipped the second time: it is served once under its digest
      const blob = await fetch(`${registry.url}/v2/acme/app/blobs/${image.layerDigest}`, {
        method: 'HEAD',
      });
      expect(blob.status).toBe(200);
    });

    it.skipIf(missingRealParts(['skopeo']) !== undefined)(
      'resolves to the same digest with skopeo (containers/image)',
      async () => {
        const image2 = await buildImage({ salt: 'skopeo' });
        await pushImage({
          registryUrl: registry.url,
          repository: 'acme/skopeo',
          tag: 'v1',
          image: image2,
        });
        const { stdout } = await promisify(execFile)('skopeo', [
          'inspect',
          '--tls-verify=false',
          `docker://${registry.host}/acme/skopeo:v1`,
        ]);
        const inspected = JSON.parse(stdout) as {
          Digest: string;
          Architecture: string;
          Labels: Record<string, string>;
        };
        expect(inspected.Digest).toBe(image2.digest);
        expect(inspected.Labels[SALT_LABEL]).toBe('skopeo');
      },
    );

    it('close() stops the registry and removes its temp dir', async () => {
      const other = await startDistribution();
      expect(existsSync(other.dir)).toBe(true);
      await other.close();
      expect(existsSync(other.dir)).toBe(false);
      await expect(fetch(`${other.url}/v2/`)).rejects.toThrow();
    });
  });

  describe("auth 'htpasswd'", () => {
    let registry: Distribution;
    beforeAll(async () => {
      registry = await startDistribution({ auth: 'htpasswd', users });
    });
    afterAll(() => registry?.close());

    it('challenges with Basic and accepts only the right password', async () => {
      const anonymous = await fetch(`${registry.url}/v2/`);
      expect(anonymous.status).toBe(401);
      expect(parseChallenge(anonymous.headers.get('www-authenticate') ?? '').scheme).toBe('basic');
      const wrong = await fetch(`${registry.url}/v2/`, {
        headers: { authorization: basic('alice', 'nope') },
      });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${registry.url}/v2/`, {
        headers: { authorization: basic('alice', PASSWORD) },
      });
      expect(right.status).toBe(200);
    });

    it('pushes with credentials and refuses anonymous pulls', async () => {
      const digest = await pushImage({
        registryUrl: registry.url,
        repository: 'acme/basic',
        tag: 'latest',
        image,
        credentials: users[0]!,
      });
      expect(digest).toBe(image.digest);
      expect((await getManifest(registry, 'acme/basic', 'latest')).status).toBe(401);
      const pulled = await getManifest(registry, 'acme/basic', 'latest', users[0]);
      expect(pulled.headers.get('docker-content-digest')).toBe(image.digest);
    });

    it('fails a push with a wrong password without showing it', async () => {
      const error = await pushError(
        pushImage({
          registryUrl: registry.url,
          repository: 'acme/basic',
          tag: 'x',
          image,
          credentials: { username: 'alice', password: 'wrong-secret-41' },
        }),
      );
      expect(isRealPartsError(error) && error.code).toBe('PUSH_FAILED');
      expect(isRealPartsError(error) && error.status).toBe(401);
      expect(
        JSON.stringify({ ...(error as object), message: (error as Error).message }),
      ).not.toContain('wrong-secret-41');
    });

    it('refuses allowAnonymousPull, which htpasswd cannot do', async () => {
      const error = await pushError(
        startDistribution({ auth: 'htpasswd', allowAnonymousPull: true }),
      );
      expect(isRealPartsError(error) && error.code).toBe('INVALID_OPTIONS');
    });
  });

  describe("auth 'token'", () => {
    let registry: Distribution;
    beforeAll(async () => {
      registry = await startDistribution({ auth: 'token', users });
    });
    afterAll(() => registry?.close());

    it('challenges with Bearer naming its token server', async () => {
      const response = await fetch(`${registry.url}/v2/`);
      expect(response.status).toBe(401);
      const { scheme, params } = parseChallenge(response.headers.get('www-authenticate') ?? '');
      expect(scheme).toBe('bearer');
      expect(params.realm).toBe(registry.tokenServer?.realm);
      expect(params.service).toBe(registry.tokenServer?.service);
      expect(registry.tokenServer?.realm).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/token$/);
    });

    it('accepts its tokens: push, then the digest is served by tag', async () => {
      registry.tokenServer?.clearRequests();
      const digest = await pushImage({
        registryUrl: registry.url,
        repository: 'acme/token',
        tag: 'latest',
        image,
        credentials: users[0]!,
      });
      expect(digest).toBe(image.digest);
      const response = await getManifest(registry, 'acme/token', 'latest', users[0]);
      expect(response.status).toBe(200);
      expect(response.headers.get('docker-content-digest')).toBe(image.digest);
      expect(registry.tokenServer?.requests).toEqual([
        { method: 'GET', username: 'alice', scope: 'repository:acme/token:pull,push', status: 200 },
        { method: 'GET', username: 'alice', scope: 'repository:acme/token:pull', status: 200 },
      ]);
      expect(JSON.stringify(registry.tokenServer?.requests)).not.toContain(PASSWORD);
    });

    it('refuses anonymous pulls', async () => {
      const response = await getManifest(registry, 'acme/token', 'latest');
      expect(response.status).toBe(401);
      expect(registry.tokenServer?.requests.at(-1)).toEqual({
        method: 'GET',
        scope: 'repository:acme/token:pull',
        status: 401,
      });
    });

    it('rejects a push with a wrong password', async () => {
      const error = await pushError(
        pushImage({
          registryUrl: registry.url,
          repository: 'acme/token',
          tag: 'x',
          image,
          credentials: { username: 'alice', password: 'bad-secret-2' },
        }),
      );
      expect(isRealPartsError(error) && error.status).toBe(401);
      expect((error as Error).message).not.toContain('bad-secret-2');
    });
  });

  describe("auth 'token' with allowAnonymousPull and notifications", () => {
    let registry: Distribution;
    const events: {
      headers: IncomingHttpHeaders;
      body: {
        events?: { action: string; target: { repository: string; digest: string; tag?: string } }[];
      };
    }[] = [];
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        events.push({
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        res.writeHead(200).end();
      });
    });
    beforeAll(async () => {
      await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
      const { port } = hook.address() as AddressInfo;
      registry = await startDistribution({
        auth: 'token',
        users,
        allowAnonymousPull: true,
        notifications: [
          { url: `http://127.0.0.1:${port}/events`, headers: { 'x-hook-key': 'k1' } },
        ],
      });
    });
    afterAll(async () => {
      await registry?.close();
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    });

    it('lets anonymous pull but not push, and posts push events to the webhook', async () => {
      await pushImage({
        registryUrl: registry.url,
        repository: 'acme/open',
        tag: 'latest',
        image,
        credentials: users[0]!,
      });
      const pulled = await getManifest(registry, 'acme/open', 'latest');
      expect(pulled.status).toBe(200);
      expect(pulled.headers.get('docker-content-digest')).toBe(image.digest);

      const error = await pushError(
        pushImage({ registryUrl: registry.url, repository: 'acme/open', tag: 'anon', image }),
      );
      expect(isRealPartsError(error) && error.status).toBe(401);

      const deadline = Date.now() + 10_000;
      const isManifestPush = (
        event: NonNullable<(typeof events)[number]['body']['events']>[number],
      ) =>
        event.action === 'push' &&
        event.target.tag === 'latest' &&
        event.target.digest === image.digest;
      while (!events.some((e) => e.body.events?.some(isManifestPush)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const delivery = events.find((e) => e.body.events?.some(isManifestPush));
      expect(delivery?.headers['x-hook-key']).toBe('k1');
      expect(delivery?.body.events?.find(isManifestPush)?.target.repository).toBe('acme/open');
    });
  });
});
