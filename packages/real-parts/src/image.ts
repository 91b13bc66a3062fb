import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { RealPartsError } from './errors.js';
import { createTar } from './tar.js';

const gzipAsync = promisify(gzip);

/** https://github.com/distribution/distribution/blob/v2.8.2/docs/spec/manifest-v2-2.md */
export const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_IMAGE_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** The default command keeps running and exits at once on SIGTERM (busybox sh ignores TERM as PID 1). */
export const DEFAULT_CMD: readonly string[] = [
  'sh',
  '-c',
  "trap 'exit 0' TERM; while true; do sleep 1; done",
];

export const SALT_LABEL = 'org.molecule.real-parts.salt';

const BUSYBOX_PATH = '/bin/busybox';

export interface BuiltImage {
  /** Manifest digest, `sha256:…`: what the registry answers in Docker-Content-Digest. */
  digest: string;
  manifest: { mediaType: string; body: Buffer };
  /** Config blob and layer blob by digest. */
  blobs: Map<string, Buffer>;
  configDigest: string;
  layerDigest: string;
  /** sha256 of the uncompressed layer tar (the config's rootfs.diff_ids[0]). */
  diffId: string;
}

export interface BuildImageOptions {
  /** Written into a label; the same salt gives the same digest. Default: a random UUID, so every call is a new digest. */
  salt?: string;
  /** config.Cmd; default {@link DEFAULT_CMD}. */
  cmd?: string[];
}

interface Layer {
  gz: Buffer;
  digest: string;
  diffId: string;
}

let busyboxLayer: Promise<Layer> | undefined;

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Architecture name the image config uses for this host (the busybox inside is the host's). */
function imageArchitecture(): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    s390x: 's390x',
    ppc64: 'ppc64le',
  };
  return names[process.arch] ?? process.arch;
}

async function buildBusyboxLayer(): Promise<Layer> {
  let busybox: Buffer;
  try {
    busybox = await readFile(BUSYBOX_PATH);
  } catch (error) {
    throw new RealPartsError(
      'MISSING_BINARY',
      `cannot read ${BUSYBOX_PATH} (apt-get install busybox-static)`,
      { cause: error },
    );
  }
  const tar = createTar([
    { type: 'directory', path: 'bin' },
    { type: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'symlink', path: 'bin/sleep', target: 'busybox' },
    { type: 'symlink', path: 'bin/true', target: 'busybox' },
    { type: 'directory', path: 'tmp', mode: 0o1777 },
  ]);
  const gz = await gzipAsync(tar);
  return { gz, digest: sha256Digest(gz), diffId: sha256Digest(tar) };
}

/**
 * A real, runnable Docker schema2 image: one layer with a static busybox and sh, sleep and
 * true links to it. The layer is built once per process; the config and manifest per call.
 *
 * @example
 * const image = await buildImage({ salt: 'v2' });
 * await pushImage({ registryUrl: registry.url, repository: 'acme/app', tag: 'latest', image });
 */
export async function buildImage(options: BuildImageOptions = {}): Promise<BuiltImage> {
  busyboxLayer ??= buildBusyboxLayer();
  let layer: Layer;
  try {
    layer = await busyboxLayer;
  } catch (error) {
    busyboxLayer = undefined;
    throw error;
  }
  const salt = options.salt ?? randomUUID();
  const config = Buffer.from(
    JSON.stringify({
      architecture: imageArchitecture(),
      os: 'linux',
      created: '2000-01-01T00:00:00Z',
      config: {
        Env: ['PATH=/bin'],
        Cmd: options.cmd ?? [...DEFAULT_CMD],
        WorkingDir: '/',
        Labels: { [SALT_LABEL]: salt },
      },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: '2000-01-01T00:00:00Z', created_by: '@molecule/real-parts buildImage' }],
    }),
  );
  const configDigest = sha256Digest(config);
  const body = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST_V2,
        config: { mediaType: DOCKER_IMAGE_CONFIG, size: config.length, digest: configDigest },
        layers: [{ mediaType: DOCKER_LAYER_GZIP, size: layer.gz.length, digest: layer.digest }],
      },
      null,
      3,
    ),
  );
  return {
    digest: sha256Digest(body),
    manifest: { mediaType: DOCKER_MANIFEST_V2, body },
    blobs: new Map([
      [configDigest, config],
      [layer.digest, layer.gz],
    ]),
    configDigest,
    layerDigest: layer.digest,
    diffId: layer.diffId,
  };
}
