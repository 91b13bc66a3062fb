/**
 * Bounds on what one verification reads. Whoever can push to the repository can list any
 * number of referrers or `.sig` layers; each costs a request and memory, and cosign writes
 * one per signing run, so a few dozen is plenty. Entries past a bound are ignored (in
 * index or manifest order), never an error.
 */

/** Referring manifests read per digest (from the referrers API or the tag schema index). */
export const MAX_REFERRERS = 32;

/** Signature layers read per format: `.sig` simple-signing layers, and bundle layers. */
export const MAX_SIGNATURE_LAYERS = 32;

/**
 * Largest signature blob fetched. A simple-signing payload is about 250 bytes and a key-based
 * bundle about 4 KiB (a keyless one with certificates and tlog proofs under 20 KiB); a larger
 * descriptor is a malformed signature artifact and is not fetched.
 */
export const MAX_SIGNATURE_BLOB_BYTES = 1024 * 1024;
