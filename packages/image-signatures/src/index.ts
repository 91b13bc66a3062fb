export type { ImageSignatureErrorCode } from './errors.js';
export {
  ImageSignatureError,
  isImageSignatureError,
  isSignatureConfigError,
  SignatureConfigError,
  SigningKeyError,
} from './errors.js';
export type { SignatureFormat } from './findings.js';
export {
  MAX_REFERRERS,
  MAX_SIGNATURE_BLOB_BYTES,
  MAX_SIGNATURE_LAYERS,
} from './limits.js';
export {
  COSIGN_SIGN_PREDICATE,
  referrersTag,
  SIGNATURE_ANNOTATION,
  SIGSTORE_BUNDLE_V03,
  SIMPLE_SIGNING_LAYER,
  signatureTag,
} from './media-types.js';
export { createRegistrySignatureSource } from './registry-signature-source.js';
export {
  type Env,
  parseSignaturePolicy,
  SIGNATURES_VARIABLE,
  SIGNING_KEYS_VARIABLE,
  type SignatureMode,
  type SignaturePolicy,
  THRESHOLD_VARIABLE,
} from './signature-policy.js';
export type { SignatureSource } from './signature-source.js';
export {
  createSignatureVerifier,
  type SignatureVerifier,
  type SignatureVerifierOptions,
} from './signature-verifier.js';
export {
  loadSigningKeys,
  parseSigningKeys,
  type SigningKey,
  type SigningKeyAlgorithm,
} from './signing-keys.js';
export { TRUST_REASONS, type TrustReason, type TrustVerdict } from './verdict.js';
export {
  type VerifyImageSignaturesOptions,
  verifyImageSignatures,
} from './verify-image-signatures.js';
