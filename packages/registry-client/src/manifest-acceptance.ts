import { z } from 'zod';
import type { RegistryError } from './errors.js';
import {
  MANIFEST_KIND,
  type ManifestMediaType,
  manifestMediaType,
  mediaTypeOf,
} from './media-types.js';
import { responseError } from './status-errors.js';
import { headerValue, type TransportResponse } from './transport.js';

/**
 * The rule that keeps a login page, a captive portal or a misrouted proxy from ever becoming
 * a digest: a 200 is a manifest only when its `Content-Type` (without parameters, any case)
 * is one of the manifest types asked for, and, when there is a body, the body is JSON of that
 * kind. Anything else is `BAD_RESPONSE`, naming host, path, status and what came back.
 */

/**
 * An image manifest (OCI, Docker schema 2), as far as telling it from other bytes needs.
 * Spec: https://github.com/opencontainers/image-spec/blob/main/manifest.md and
 * https://distribution.github.io/distribution/spec/manifest-v2-2/#image-manifest-field-descriptions
 */
export const ImageManifestBodySchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: z.record(z.string(), z.unknown()),
  layers: z.array(z.unknown()),
});

/**
 * An OCI image index or a Docker manifest list.
 * Spec: https://github.com/opencontainers/image-spec/blob/main/image-index.md and
 * https://distribution.github.io/distribution/spec/manifest-v2-2/#manifest-list-field-descriptions
 */
export const ManifestIndexBodySchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(z.unknown()),
});

const BODY_SCHEMA = {
  image: ImageManifestBodySchema,
  index: ManifestIndexBodySchema,
} as const;

/** The response's manifest type when it is one of `accepted`, else `undefined`. */
export function acceptedMediaType(
  response: TransportResponse,
  accepted: readonly ManifestMediaType[],
): ManifestMediaType | undefined {
  const type = manifestMediaType(headerValue(response.headers['content-type']));
  return type !== undefined && accepted.includes(type) ? type : undefined;
}

/** The response's manifest type, or `BAD_RESPONSE` when it is not one of `accepted`. */
export function requireManifestType(
  response: TransportResponse,
  method: string,
  accepted: readonly ManifestMediaType[],
): ManifestMediaType {
  const type = acceptedMediaType(response, accepted);
  if (type !== undefined) return type;
  const got = mediaTypeOf(headerValue(response.headers['content-type']));
  throw badManifest(
    response,
    method,
    `answered ${got === undefined ? 'no Content-Type' : `Content-Type ${got}`}, not ${accepted.join(' or ')}; a login page, captive portal or proxy may be answering for the registry — check the registry address and the network path`,
  );
}

/** `BAD_RESPONSE` unless `body` is JSON of the kind `mediaType` says, with no other `mediaType` inside. */
export function requireManifestBody(
  response: TransportResponse,
  method: string,
  mediaType: ManifestMediaType,
): void {
  const kind = MANIFEST_KIND[mediaType];
  let json: unknown;
  try {
    json = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw badManifest(
      response,
      method,
      `answered Content-Type ${mediaType} with a body that is not JSON; a proxy may be rewriting registry answers`,
    );
  }
  const parsed = BODY_SCHEMA[kind].safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
    throw badManifest(
      response,
      method,
      `answered Content-Type ${mediaType} with a body that is not an ${kind === 'index' ? 'index' : 'image manifest'} (${where}${issue?.message ?? 'invalid'}); a proxy may be rewriting registry answers`,
    );
  }
  const inner = parsed.data.mediaType;
  if (inner !== undefined && mediaTypeOf(inner) !== mediaType) {
    throw badManifest(
      response,
      method,
      `answered Content-Type ${mediaType} with a body whose mediaType is ${JSON.stringify(inner)}; the registry or a proxy mixed up manifests`,
    );
  }
}

function badManifest(response: TransportResponse, method: string, hint: string): RegistryError {
  return responseError('BAD_RESPONSE', response, method, hint);
}
