export type { Env } from './env.js';
export { PLATFORM_VARIABLE, REGISTRY_VARIABLE } from './env.js';
export type { RegistryCoreErrorCode } from './errors.js';
export {
  ImageReferenceError,
  InvalidDigestError,
  isRegistryConfigError,
  isRegistryCoreError,
  RegistryConfigError,
  RegistryCoreError,
  UnknownRuntimeError,
} from './errors.js';
export { isSha256Digest, isValidTag } from './grammar.js';
export {
  defaultImage,
  pinnedImage,
  RUNTIME_IMAGE_TAG,
  runtimeImage,
  runtimeImages,
  runtimeRepository,
} from './images.js';
export type { HostPlatform } from './platform.js';
export { imagePlatform } from './platform.js';
export type { RegistryPrefix } from './prefix.js';
export {
  DEFAULT_REGISTRY_PREFIX,
  GITHUB_CONTAINER_REGISTRY_HOST,
  parseRegistryPrefix,
  registryHost,
  registryPrefix,
} from './prefix.js';
export type { ImageReference } from './reference.js';
export { formatImageReference, parseImageReference, runtimeOfImage } from './reference.js';
export type { Runtime } from './runtimes.js';
export {
  DEFAULT_RUNTIME,
  isKnownRuntime,
  KNOWN_RUNTIMES,
  TEMPLATE_REPOSITORY_PREFIX,
} from './runtimes.js';
