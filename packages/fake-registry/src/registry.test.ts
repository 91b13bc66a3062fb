import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Digest } from './digest.js';
import { DOCKER_MANIFEST, OCI_MANIFEST } from './media-types.js';
import { createRandomImage } from './random-image.js';
import { startFakeRegistry } from './server.js';
import type { FakeRegistry } from './types.js';

const ACCEPT_ALL = [
  'application/vnd.oci.image.index.v1+json',
  OCI_MANIFEST,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  DOCKER_MANIFEST,
].join(', ');

let registry: FakeRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

describe('read side (auth none)', () => {
  it('answers the ping with the API version header', async () => {
    registry = await startFakeRegistry();
    const response = await fetch(`${registry.url}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(registry.requests).toMatchObject([
      { method: 'GET', path: '/v2/', kind: 'ping', status: 200, presented: { scheme: 'none' } },
    ]);
  });

  it('serves a manifest by tag and by digest with the sha256 of its body', async () => {
    registry = await startFakeRegistry();
    const digest = registry.pushRandomImage('molecule-ai/workspace-template-langgraph');
    expect(registry.digestOf('molecule-ai/workspace-template-langgraph', 'latest')).toBe(digest);
    const path = `${registry.url}/v2/molecule-ai/workspace-template-langgraph/manifests`;
    for (const reference of ['latest', digest]) {
      const head = await fetch(`${path}/${reference}`, {
        method: 'HEAD',
        headers: { accept: ACCEPT_ALL },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('docker-content-digest')).toBe(digest);
      expect(head.headers.get('content-type')).toBe(DOCKER_MANIFEST);
      const get = await fetch(`${path}/${reference}`, { headers: { accept: ACCEPT_ALL } });
      const body = Buffer.from(await get.arrayBuffer());
      expect(sha256Digest(body)).toBe(digest);
      expect(get.headers.get('content-length')).toBe(String(body.length));
      expect(head.headers.get('content-length')).toBe(String(body.length));
    }
    expect(registry.requests.map((r) => r.kind)).toEqual([
      'manifest',
      'manifest',
      'manifest',
      'manifest',
    ]);
  });

  it('moves a tag to a new digest and serves the blobs of the image', async () => {
    registry = await startFakeRegistry();
    const first = registry.pushRandomImage('acme/app', 'v1');
    const second = registry.pushRandomImage('acme/app', 'v1');
    expect(second).not.toBe(first);
    expect(registry.digestOf('acme/app', 'v1')).toBe(second);
    const manifest = (await (
      await fetch(`${registry.url}/v2/acme/app/manifests/v1`, { headers: { accept: ACCEPT_ALL } })
    ).json()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    for (const { digest } of [manifest.config, ...manifest.layers]) {
      const blob = await fetch(`${registry.url}/v2/acme/app/blobs/${digest}`);
      expect(blob.status).toBe(200);
      expect(blob.headers.get('docker-content-digest')).toBe(digest);
      expect(sha256Digest(Buffer.from(await blob.arrayBuffer()))).toBe(digest);
    }
    expect(registry.requests.filter((r) => r.kind === 'blob')).toHaveLength(2);
  });

  it('answers 404 with distribution-style errors', async () => {
    registry = await startFakeRegistry();
    registry.pushRandomImage('acme/app');
    const unknownTag = await fetch(`${registry.url}/v2/acme/app/manifests/nope`);
    expect(unknownTag.status).toBe(404);
    expect(await unknownTag.json()).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    const unknownRepo = await fetch(`${registry.url}/v2/acme/other/manifests/latest`);
    expect(await unknownRepo.json()).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
    const unknownBlob = await fetch(`${registry.url}/v2/acme/app/blobs/${sha256Digest('x')}`);
    expect(unknownBlob.status).toBe(404);
    expect(await unknownBlob.json()).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN' }] });
  });

  it('refuses an OCI manifest to a client that does not accept the OCI type, as distribution does', async () => {
    registry = await startFakeRegistry();
    const digest = registry.pushRandomImage('acme/oci', 'latest', { format: 'oci' });
    const url = `${registry.url}/v2/acme/oci/manifests/latest`;
    const dockerOnly = await fetch(url, { headers: { accept: DOCKER_MANIFEST } });
    expect(dockerOnly.status).toBe(404);
    expect(await dockerOnly.json()).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    const byDigest = await fetch(`${registry.url}/v2/acme/oci/manifests/${digest}`, {
      method: 'HEAD',
    });
    expect(byDigest.status).toBe(404);
    const withOci = await fetch(url, {
      method: 'HEAD',
      headers: { accept: `${OCI_MANIFEST};q=0.9` },
    });
    expect(withOci.status).toBe(200);
    expect(withOci.headers.get('docker-content-digest')).toBe(digest);
  });

  it('closes keep-alive connections on close()', async () => {
    registry = await startFakeRegistry();
    await (await fetch(`${registry.url}/v2/`)).arrayBuffer();
    const started = Date.now();
    await registry.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
  });
});

describe('createRandomImage', () => {
  it('makes a layer tar can read and a config whose diff id is the uncompressed layer', () => {
    const image = createRandomImage();
    const [config, layer] = image.blobs as [Buffer, Buffer];
    expect(execFileSync('tar', ['-tzf', '-'], { input: layer }).toString()).toBe('random.txt\n');
    const parsed = JSON.parse(config.toString()) as { rootfs: { diff_ids: string[] } };
    expect(parsed.rootfs.diff_ids).toEqual([sha256Digest(gunzipSync(layer))]);
    expect(createRandomImage().manifest.body.equals(image.manifest.body)).toBe(false);
  });
});
