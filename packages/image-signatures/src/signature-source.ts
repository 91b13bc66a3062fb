/**
 * How verification reads the registry: one repository (the image's own, with the same
 * credentials), three calls. `createRegistrySignatureSource` puts it on
 * `@molecule/registry-client`; tests use fakes. Signatures kept in another repository are out
 * of reach by design.
 *
 * Expected absences are values (`undefined` on 404). Every other failure (network, 401, 5xx,
 * a digest that does not match) is thrown, and verification lets it through unchanged: a
 * registry failure is not a verdict, the caller retries later.
 */
export interface SignatureSource {
  /** Exact bytes of a manifest of the image's repository, by tag or digest; undefined when the registry answers 404. Digest already verified by the source when asked by digest. */
  getManifest(
    reference: string,
    options: { signal?: AbortSignal; accept: readonly string[] },
  ): Promise<{ body: Buffer; mediaType: string; digest: string } | undefined>;
  /** A blob of the same repository, digest-verified by the source. */
  getBlob(digest: string, options: { signal?: AbortSignal; maxBytes: number }): Promise<Buffer>;
  /** The body of GET /v2/<name>/referrers/<digest> (an OCI index), or undefined when the registry has no referrers API (404). */
  getReferrers(digest: string, options: { signal?: AbortSignal }): Promise<Buffer | undefined>;
}
