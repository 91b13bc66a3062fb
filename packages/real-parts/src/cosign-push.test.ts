import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cosignSignatureTag,
  createSigManifest,
  createSimpleSignature,
  generateCosignKeyPair,
} from './cosign.js';
import { sha256Digest } from './image.js';
import { pushArtifact } from './push.js';

const USER = { username: 'alice', password: 's3cret' };
const BASIC = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;

/**
 * Just enough of the distribution push API: blob HEAD/POST/PUT and manifest PUT, behind a
 * Basic or Bearer challenge. Stores what it receives and records every request's scope.
 */
async function startFakeRegistry(auth: 'basic' | 'bearer') {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { body: Buffer; contentType: string | undefined }>();
  const scopes: string[] = [];
  const body = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    if (url.pathname === '/token') {
      scopes.push(url.searchParams.get('scope') ?? '');
      const ok = request.headers.authorization === BASIC;
      response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      return response.end(ok ? JSON.stringify({ token: 'tok' }) : '{}');
    }
    const expected = auth === 'basic' ? BASIC : 'Bearer tok';
    if (request.headers.authorization !== expected) {
      const { port } = server.address() as AddressInfo;
      response.writeHead(401, {
        'www-authenticate':
          auth === 'basic'
            ? 'Basic realm="fake"'
            : `Bearer realm="http://127.0.0.1:${port}/token",service="fake"`,
      });
      return response.end();
    }
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (request.method === 'HEAD' && blob) {
      response.writeHead(blobs.has(blob[2]!) ? 200 : 404);
      return response.end();
    }
    if (request.method === 'POST' && url.pathname.endsWith('/blobs/uploads/')) {
      response.writeHead(202, { location: `${url.pathname}upload-1` });
      return response.end();
    }
    if (request.method === 'PUT' && url.pathname.includes('/blobs/uploads/')) {
      const content = await body(request);
      const digest = url.searchParams.get('digest') ?? '';
      if (sha256Digest(content) !== digest) {
        response.writeHead(400);
        return response.end('DIGEST_INVALID');
      }
      blobs.set(digest, content);
      response.writeHead(201);
      return response.end();
    }
    const manifest = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (request.method === 'PUT' && manifest) {
      const content = await body(request);
      manifests.set(manifest[2]!, { body: content, contentType: request.headers['content-type'] });
      response.writeHead(201, { 'docker-content-digest': sha256Digest(content) });
      return response.end();
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    blobs,
    manifests,
    scopes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let registry: Awaited<ReturnType<typeof startFakeRegistry>> | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

describe('pushArtifact', () => {
  const digest = sha256Digest('an image');
  const sig = createSigManifest([createSimpleSignature({ key: generateCosignKeyPair(), digest })]);

  it.each(['basic', 'bearer'] as const)(
    'pushes the exact manifest bytes and its blobs (%s auth)',
    async (auth) => {
      registry = await startFakeRegistry(auth);
      const pushed = await pushArtifact({
        registryUrl: registry.url,
        repository: 'acme/app',
        reference: cosignSignatureTag(digest),
        manifest: sig.manifest,
        mediaType: sig.mediaType,
        blobs: sig.blobs,
        credentials: USER,
      });
      expect(pushed).toBe(sig.digest);
      const stored = registry.manifests.get(cosignSignatureTag(digest));
      expect(stored?.body.equals(sig.manifest)).toBe(true);
      expect(stored?.contentType).toBe(sig.mediaType);
      expect([...registry.blobs.keys()].sort()).toEqual([...sig.blobs.keys()].sort());
      if (auth === 'bearer') expect(registry.scopes).toEqual(['repository:acme/app:pull,push']);
    },
  );

  it('refuses a Basic challenge without credentials, naming the path', async () => {
    registry = await startFakeRegistry('basic');
    await expect(
      pushArtifact({
        registryUrl: registry.url,
        repository: 'acme/app',
        reference: 'x',
        manifest: sig.manifest,
        mediaType: sig.mediaType,
        blobs: sig.blobs,
      }),
    ).rejects.toMatchObject({ code: 'PUSH_FAILED', status: 401 });
  });
});
