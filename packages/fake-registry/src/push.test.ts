import { afterEach, describe, expect, it } from 'vitest';
import { sha256Digest } from './digest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX } from './media-types.js';
import { createRandomImage } from './random-image.js';
import { startFakeRegistry } from './server.js';
import type { FakeRegistry } from './types.js';

const USER = { username: 'pusher', password: 'push-secret' };
let registry: FakeRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

describe('pushes over HTTP', () => {
  it('accepts a chunked blob upload, a monolithic one, a mount and a manifest PUT', async () => {
    registry = await startFakeRegistry({ auth: 'basic', users: [USER] });
    const authorization = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;
    const image = createRandomImage();
    const [config, layer] = image.blobs as [Buffer, Buffer];

    const start = await fetch(`${registry.url}/v2/acme/app/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization },
    });
    expect(start.status).toBe(202);
    const location = start.headers.get('location')!;
    const patch = await fetch(location, {
      method: 'PATCH',
      headers: { authorization, 'content-type': 'application/octet-stream' },
      body: layer.subarray(0, 10),
    });
    expect(patch.status).toBe(202);
    expect(patch.headers.get('range')).toBe('0-9');
    const put = await fetch(
      new URL(`?digest=${sha256Digest(layer)}`, patch.headers.get('location')!),
      {
        method: 'PUT',
        headers: { authorization },
        body: layer.subarray(10),
      },
    );
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(sha256Digest(layer));

    const mono = await fetch(
      `${registry.url}/v2/acme/app/blobs/uploads/?digest=${sha256Digest(config)}`,
      { method: 'POST', headers: { authorization }, body: config },
    );
    expect(mono.status).toBe(201);
    const mount = await fetch(
      `${registry.url}/v2/acme/copy/blobs/uploads/?mount=${sha256Digest(config)}&from=acme/app`,
      { method: 'POST', headers: { authorization } },
    );
    expect(mount.status).toBe(201);

    const manifest = await fetch(`${registry.url}/v2/acme/app/manifests/v1`, {
      method: 'PUT',
      headers: { authorization, 'content-type': image.manifest.mediaType },
      body: image.manifest.body,
    });
    expect(manifest.status).toBe(201);
    const digest = sha256Digest(image.manifest.body);
    expect(manifest.headers.get('docker-content-digest')).toBe(digest);
    expect(registry.digestOf('acme/app', 'v1')).toBe(digest);
    const blob = await fetch(`${registry.url}/v2/acme/app/blobs/${sha256Digest(layer)}`, {
      headers: { authorization },
    });
    expect(Buffer.from(await blob.arrayBuffer()).equals(layer)).toBe(true);
    expect(JSON.stringify(registry.requests)).not.toContain(USER.password);
  });

  it('rejects an upload whose digest does not match', async () => {
    registry = await startFakeRegistry();
    const response = await fetch(
      `${registry.url}/v2/acme/app/blobs/uploads/?digest=${sha256Digest('other')}`,
      { method: 'POST', body: 'content' },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
    const manifest = await fetch(`${registry.url}/v2/acme/app/manifests/${sha256Digest('x')}`, {
      method: 'PUT',
      headers: { 'content-type': DOCKER_MANIFEST },
      body: '{}',
    });
    expect(manifest.status).toBe(400);
  });
});

describe('manifest lists and indexes', () => {
  it('serves the linux/amd64 child of a Docker list asked by tag without the list type', async () => {
    registry = await startFakeRegistry();
    const child = registry.pushRandomImage('acme/multi', 'amd64');
    const childBody = Buffer.from(
      await (
        await fetch(`${registry.url}/v2/acme/multi/manifests/amd64`, {
          headers: { accept: DOCKER_MANIFEST },
        })
      ).arrayBuffer(),
    );
    const list = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST_LIST,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          size: childBody.length,
          digest: child,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    });
    const listDigest = registry.putManifest('acme/multi', 'latest', {
      mediaType: DOCKER_MANIFEST_LIST,
      body: list,
    });
    const url = `${registry.url}/v2/acme/multi/manifests/latest`;
    const withList = await fetch(url, {
      method: 'HEAD',
      headers: { accept: `${DOCKER_MANIFEST_LIST}, ${DOCKER_MANIFEST}` },
    });
    expect(withList.headers.get('docker-content-digest')).toBe(listDigest);
    expect(withList.headers.get('content-type')).toBe(DOCKER_MANIFEST_LIST);
    const withoutList = await fetch(url, { method: 'HEAD', headers: { accept: DOCKER_MANIFEST } });
    expect(withoutList.headers.get('docker-content-digest')).toBe(child);
    const byDigest = await fetch(`${registry.url}/v2/acme/multi/manifests/${listDigest}`, {
      method: 'HEAD',
      headers: { accept: DOCKER_MANIFEST },
    });
    expect(byDigest.headers.get('docker-content-digest')).toBe(listDigest);
  });

  it('refuses an OCI index without the index type', async () => {
    registry = await startFakeRegistry();
    registry.putManifest('acme/idx', 'latest', {
      mediaType: OCI_INDEX,
      body: JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }),
    });
    const url = `${registry.url}/v2/acme/idx/manifests/latest`;
    expect((await fetch(url, { headers: { accept: DOCKER_MANIFEST } })).status).toBe(404);
    expect((await fetch(url, { headers: { accept: OCI_INDEX } })).status).toBe(200);
  });

  it('validates names and tags given to putManifest', async () => {
    registry = await startFakeRegistry();
    const manifest = { mediaType: DOCKER_MANIFEST, body: '{}' };
    expect(() => registry?.putManifest('Upper/Case', 'latest', manifest)).toThrow(TypeError);
    expect(() => registry?.putManifest('acme/app', 'bad tag', manifest)).toThrow(TypeError);
    expect(registry.putManifest('acme/app', 'latest', manifest)).toBe(sha256Digest('{}'));
  });
});
