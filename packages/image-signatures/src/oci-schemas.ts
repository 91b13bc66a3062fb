import { z } from 'zod';

/** `sha256:<64 hex>` or `sha512:<128 hex>`: the digests registries serve. */
const CONTENT_DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/**
 * A content descriptor. Spec: https://github.com/opencontainers/image-spec/blob/main/descriptor.md
 */
export const DescriptorSchema = z.object({
  mediaType: z.string(),
  digest: z.string().regex(CONTENT_DIGEST),
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
  artifactType: z.string().optional(),
});
export type Descriptor = z.infer<typeof DescriptorSchema>;

/**
 * An OCI image manifest or a Docker schema 2 manifest, as far as signatures need it. Layers
 * stay `unknown` here and are checked one by one (`DescriptorSchema`), so one bad layer does
 * not spoil a good one beside it. The config is not read: cosign versions write different
 * ones (v1.13 with a `created` time, v3 with the zero time).
 * Spec: https://github.com/opencontainers/image-spec/blob/main/manifest.md
 */
export const ImageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  layers: z.array(z.unknown()),
  subject: DescriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageManifest = z.infer<typeof ImageManifestSchema>;

/**
 * An OCI image index: the referrers API answer and the referrers tag schema's manifest.
 * Entries are checked one by one, like layers.
 * Spec: https://github.com/opencontainers/image-spec/blob/main/image-index.md
 */
export const ImageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(z.unknown()),
});
export type ImageIndex = z.infer<typeof ImageIndexSchema>;

/** `JSON.parse` of UTF-8 bytes, or `undefined` when they are not JSON. */
export function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The first zod issue as `path: message`, for a finding's human-readable problem. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
