import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sha256Digest } from './digest.js';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from './media-types.js';
import type { ManifestInput, RandomImageOptions } from './types.js';

export interface RandomImage {
  readonly blobs: readonly Buffer[];
  readonly manifest: ManifestInput & { body: Buffer };
}

/** A one-file ustar archive, https://www.gnu.org/software/tar/manual/html_node/Standard.html */
export function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512, 0);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

/** A small valid image: one layer holding a random file, a config naming its diff id. */
export function createRandomImage(options: RandomImageOptions = {}): RandomImage {
  const oci = options.format === 'oci';
  const tar = tarOneFile('random.txt', Buffer.from(`${randomBytes(16).toString('hex')}\n`));
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
    }),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: oci ? OCI_MANIFEST : DOCKER_MANIFEST,
    config: {
      mediaType: oci ? OCI_CONFIG : DOCKER_CONFIG,
      size: config.length,
      digest: sha256Digest(config),
    },
    layers: [
      {
        mediaType: oci ? OCI_LAYER_GZIP : DOCKER_LAYER_GZIP,
        size: layer.length,
        digest: sha256Digest(layer),
      },
    ],
  };
  return {
    blobs: [config, layer],
    manifest: { mediaType: manifest.mediaType, body: Buffer.from(JSON.stringify(manifest)) },
  };
}
