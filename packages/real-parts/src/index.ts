export {
  findBinary,
  missingRealParts,
  postgresBinDirs,
  type RealPartsGate,
  realPartsGate,
  realPartsRequired,
} from './binaries.js';
export {
  artifactDescriptor,
  COSIGN_SIGN_PREDICATE,
  COSIGN_SIGNATURE_ANNOTATION,
  type CosignArtifact,
  type CosignKeyAlgorithm,
  type CosignKeyPair,
  cosignReferrersTag,
  cosignSignatureTag,
  createInTotoStatement,
  createReferrersIndex,
  createReferringManifest,
  createSigManifest,
  createSigstoreBundle,
  createSimpleSignature,
  dssePreAuthEncoding,
  generateCosignKeyPair,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  OCI_EMPTY,
  OCI_IMAGE_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  publicKeyHint,
  SIGSTORE_BUNDLE_V03,
  SIMPLE_SIGNING_LAYER,
  type SimpleSignature,
  type SubjectDescriptor,
  signWithKey,
  simpleSigningPayload,
} from './cosign.js';
export {
  COSIGN_FIXTURES_VARIABLE,
  type CosignFixturesGate,
  cosignFixturesGate,
  resolveCosignFixtures,
} from './cosign-fixtures.js';
export { type SignTarget, signImageLegacy, signImageWithBundles } from './cosign-sign.js';
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
  FAULT_MODES,
  type FaultMode,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultStep,
  startFaultProxy,
} from './fault-proxy.js';
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
export {
  POSTGRES_BINARIES,
  type Postgres,
  type PostgresOptions,
  type PostgresSetting,
  startPostgres,
} from './postgres.js';
export { getFreePort } from './process.js';
export {
  type PushArtifactOptions,
  type PushImageOptions,
  parseChallenge,
  pushArtifact,
  pushImage,
} from './push.js';
export { createTar, readTar, type TarEntry } from './tar.js';
export {
  parseScope,
  startTokenServer,
  type TokenRequestRecord,
  type TokenServer,
  type TokenServerOptions,
} from './token-server.js';
