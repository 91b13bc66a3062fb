export { isDigest, sha256Digest, tokenId } from './digest.js';
export {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from './media-types.js';
export { createRandomImage, type RandomImage } from './random-image.js';
export { startFakeRegistry } from './server.js';
export type {
  FakeAuthMode,
  FakeIdentityToken,
  FakeRegistry,
  FakeRegistryOptions,
  FakeUser,
  Fault,
  FaultMatch,
  ManifestInput,
  PresentedCredentials,
  RandomImageOptions,
  RecordedRequest,
  RequestKind,
} from './types.js';
