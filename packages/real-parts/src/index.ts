export {
  findBinary,
  missingRealParts,
  type RealPartsGate,
  realPartsGate,
  realPartsRequired,
} from './binaries.js';
export {
  DEFAULT_USERS,
  type Distribution,
  type DistributionAuth,
  type DistributionOptions,
  type DistributionUser,
  startDistribution,
} from './distribution.js';
export {
  type Dockerd,
  type DockerdOptions,
  socketGet,
  socketRequest,
  startDockerd,
} from './dockerd.js';
export {
  type EnginePullResult,
  encodeRegistryAuth,
  pullWithEngine,
} from './engine.js';
export type { Env } from './env.js';
export { isRealPartsError, RealPartsError, type RealPartsErrorCode } from './errors.js';
export {
  type BuildImageOptions,
  type BuiltImage,
  buildImage,
  DEFAULT_CMD,
  DOCKER_IMAGE_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST_V2,
  SALT_LABEL,
  sha256Digest,
} from './image.js';
export { getFreePort } from './process.js';
export { type PushImageOptions, parseChallenge, pushImage } from './push.js';
export { createTar, readTar, type TarEntry } from './tar.js';
export {
  parseScope,
  startTokenServer,
  type TokenRequestRecord,
  type TokenServer,
  type TokenServerOptions,
} from './token-server.js';
