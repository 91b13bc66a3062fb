import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { missingRealParts } from './binaries.js';
import { buildImage, DEFAULT_CMD, DOCKER_MANIFEST_V2, SALT_LABEL, sha256Digest } from './image.js';
import { readTar } from './tar.js';

describe.skipIf(missingRealParts(['busybox']) !== undefined)('buildImage', () => {
  it('builds a schema2 manifest whose digests match its blobs', async () => {
    const image = await buildImage({ salt: 'a' });
    expect(image.manifest.mediaType).toBe(DOCKER_MANIFEST_V2);
    expect(image.digest).toBe(sha256Digest(image.manifest.body));
    const manifest = JSON.parse(image.manifest.body.toString('utf8'));
    expect(manifest.schemaVersion).toBe(2);
    expect(manifest.mediaType).toBe(DOCKER_MANIFEST_V2);
    const referenced = [manifest.config, ...manifest.layers];
    expect(referenced).toHaveLength(2);
    for (const descriptor of referenced) {
      const blob = image.blobs.get(descriptor.digest);
      expect(blob).toBeDefined();
      expect(sha256Digest(blob!)).toBe(descriptor.digest);
      expect(blob!.length).toBe(descriptor.size);
    }
  });

  it('puts busybox and its links in the layer, and the uncompressed digest in diff_ids', async () => {
    const image = await buildImage({ salt: 'b' });
    const tar = gunzipSync(image.blobs.get(image.layerDigest)!);
    const config = JSON.parse(image.blobs.get(image.configDigest)!.toString('utf8'));
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [sha256Digest(tar)] });
    expect(config.os).toBe('linux');
    expect(config.architecture).toBe(process.arch === 'x64' ? 'amd64' : expect.any(String));
    expect(config.config.Cmd).toEqual(DEFAULT_CMD);
    expect(config.config.Labels[SALT_LABEL]).toBe('b');
    const entries = readTar(tar);
    expect(entries.find((entry) => entry.path === 'bin/busybox')).toMatchObject({
      type: '0',
      mode: 0o755,
    });
    for (const link of ['bin/sh', 'bin/sleep', 'bin/true']) {
      expect(entries.find((entry) => entry.path === link)).toMatchObject({
        type: '2',
        target: 'busybox',
      });
    }
  });

  it('gives a new digest per salt, the same for the same salt, and shares the layer', async () => {
    const [a1, a2, b, random1, random2] = await Promise.all([
      buildImage({ salt: 'a' }),
      buildImage({ salt: 'a' }),
      buildImage({ salt: 'b' }),
      buildImage(),
      buildImage(),
    ]);
    expect(a1.digest).toBe(a2.digest);
    expect(a1.digest).not.toBe(b.digest);
    expect(random1.digest).not.toBe(random2.digest);
    expect(a1.layerDigest).toBe(b.layerDigest);
    expect(a1.blobs.get(a1.layerDigest)).toBe(b.blobs.get(b.layerDigest));
  });

  it('takes a custom command', async () => {
    const image = await buildImage({ salt: 'c', cmd: ['true'] });
    const config = JSON.parse(image.blobs.get(image.configDigest)!.toString('utf8'));
    expect(config.config.Cmd).toEqual(['true']);
  });
});
