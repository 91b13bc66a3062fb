import { randomUUID } from 'node:crypto';
import type { Authority } from './authority.js';
import { readBody } from './body.js';
import type { Authorization } from './credentials.js';
import { isDigest, sha256Digest } from './digest.js';
import type { Exchange } from './exchange.js';
import { acceptedMediaTypes, negotiateManifest } from './negotiate.js';
import { type Route, routeRepository } from './routes.js';
import type { ContentStore } from './store.js';

export interface RegistryContext {
  readonly store: ContentStore;
  readonly authority: Authority;
  readonly uploads: Map<string, Upload>;
  /** `WWW-Authenticate` value for a refused request. */
  challenge(
    repository: string | undefined,
    actions: readonly string[],
    error?: 'invalid_token' | 'insufficient_scope',
  ): string | undefined;
  now(): number;
}

export interface Upload {
  readonly repository: string;
  readonly chunks: Buffer[];
}

const MANIFEST_LIMIT = 4 * 1024 * 1024;
const BLOB_LIMIT = 512 * 1024 * 1024;
const READ_METHODS = new Set(['GET', 'HEAD']);

/** Serves `/v2/...` after auth: https://distribution.github.io/distribution/spec/api/ */
export async function handleRegistry(
  ctx: RegistryContext,
  ex: Exchange,
  route: Exclude<Route, { kind: 'token' }>,
  auth: Authorization,
  url: URL,
): Promise<void> {
  const method = ex.record.method;
  const repository = routeRepository(route);
  const actions = READ_METHODS.has(method) ? ['pull'] : ['pull', 'push'];
  const needed = route.kind === 'ping' ? [] : actions;
  const decision =
    route.kind === 'other' && route.name === 'unknown'
      ? ({ ok: true } as const)
      : ctx.authority.authorize(
          auth,
          repository === undefined ? { actions: needed } : { repository, actions: needed },
          ctx.now(),
        );
  if (!decision.ok) {
    const challenge = ctx.challenge(repository, needed, decision.error);
    return ex.sendError(
      401,
      'UNAUTHORIZED',
      'authentication required',
      challenge === undefined ? {} : { 'WWW-Authenticate': challenge },
    );
  }

  switch (route.kind) {
    case 'ping':
      return ex.sendJson(200, {});
    case 'manifest':
      if (READ_METHODS.has(method)) return getManifest(ctx, ex, route.repository, route.reference);
      if (method === 'PUT') return putManifest(ctx, ex, route.repository, route.reference);
      return unsupported(ex);
    case 'blob':
      if ('digest' in route) {
        if (READ_METHODS.has(method)) return getBlob(ctx, ex, route.digest);
        return unsupported(ex);
      }
      return handleUpload(ctx, ex, route.repository, route.upload, url);
    case 'other':
      if (route.name === 'catalog' && method === 'GET') {
        return ex.sendJson(200, { repositories: ctx.store.repositories() });
      }
      if (route.name === 'tags' && method === 'GET') {
        const tags = ctx.store.tags(route.repository);
        if (!tags) return nameUnknown(ex, route.repository);
        return ex.sendJson(200, { name: route.repository, tags });
      }
      return ex.sendError(404, 'NOT_FOUND', `no route for ${method} ${ex.record.path}`);
  }
}

function unsupported(ex: Exchange): Promise<void> {
  return ex.sendError(405, 'UNSUPPORTED', 'The operation is unsupported.');
}

function nameUnknown(ex: Exchange, repository: string): Promise<void> {
  return ex.sendError(
    404,
    'NAME_UNKNOWN',
    'repository name not known to registry',
    {},
    {
      name: repository,
    },
  );
}

async function getManifest(
  ctx: RegistryContext,
  ex: Exchange,
  repository: string,
  reference: string,
): Promise<void> {
  if (!ctx.store.hasRepository(repository)) return nameUnknown(ex, repository);
  const digest = ctx.store.resolve(repository, reference);
  const stored = digest === undefined ? undefined : ctx.store.getManifest(repository, digest);
  if (!stored) {
    return ex.sendError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', {}, { Tag: reference });
  }
  const negotiated = negotiateManifest(
    stored,
    acceptedMediaTypes(ex.req.headers.accept),
    !isDigest(reference),
    (child) => ctx.store.getManifest(repository, child),
  );
  if (!negotiated.ok) return ex.sendError(404, 'MANIFEST_UNKNOWN', negotiated.message);
  const { manifest } = negotiated;
  return ex.send(
    200,
    { 'Content-Type': manifest.mediaType, ETag: `"${manifest.digest}"` },
    manifest.body,
    manifest.digest,
  );
}

async function putManifest(
  ctx: RegistryContext,
  ex: Exchange,
  repository: string,
  reference: string,
): Promise<void> {
  const body = await readBody(ex.req, MANIFEST_LIMIT);
  let parsed: { mediaType?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
  } catch {
    return ex.sendError(400, 'MANIFEST_INVALID', 'manifest invalid: not JSON');
  }
  const contentType = ex.req.headers['content-type']?.split(';')[0]?.trim();
  const mediaType = contentType || (typeof parsed.mediaType === 'string' ? parsed.mediaType : '');
  if (!mediaType) return ex.sendError(400, 'MANIFEST_INVALID', 'manifest invalid: no media type');
  const digest = sha256Digest(body);
  if (isDigest(reference) && reference !== digest) {
    return ex.sendError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
  }
  try {
    ctx.store.putManifest(repository, reference, mediaType, body);
  } catch (error) {
    return ex.sendError(400, 'TAG_INVALID', (error as Error).message);
  }
  return ex.send(
    201,
    { Location: location(ex, `/v2/${repository}/manifests/${digest}`) },
    Buffer.alloc(0),
    digest,
  );
}

function getBlob(ctx: RegistryContext, ex: Exchange, digest: string): Promise<void> {
  const blob = ctx.store.getBlob(digest);
  if (!blob) {
    return ex.sendError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', {}, { digest });
  }
  return ex.send(
    200,
    { 'Content-Type': 'application/octet-stream', ETag: `"${digest}"` },
    blob,
    digest,
  );
}

function location(ex: Exchange, path: string): string {
  return `http://${ex.req.headers.host ?? '127.0.0.1'}${path}`;
}

async function handleUpload(
  ctx: RegistryContext,
  ex: Exchange,
  repository: string,
  id: string | undefined,
  url: URL,
): Promise<void> {
  const method = ex.record.method;
  if (id === undefined) {
    if (method !== 'POST') return unsupported(ex);
    const mount = url.searchParams.get('mount');
    if (mount !== null && ctx.store.getBlob(mount)) return blobCreated(ex, repository, mount);
    const digest = url.searchParams.get('digest');
    if (digest !== null) return finishUpload(ctx, ex, repository, [], digest);
    const upload = randomUUID();
    ctx.uploads.set(upload, { repository, chunks: [] });
    return uploadAccepted(ex, repository, upload, 0, 202);
  }
  const upload = ctx.uploads.get(id);
  if (!upload || upload.repository !== repository) {
    return ex.sendError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
  }
  const size = () => upload.chunks.reduce((total, chunk) => total + chunk.length, 0);
  switch (method) {
    case 'GET':
      return uploadAccepted(ex, repository, id, size(), 204);
    case 'PATCH':
      upload.chunks.push(await readBody(ex.req, BLOB_LIMIT));
      return uploadAccepted(ex, repository, id, size(), 202);
    case 'PUT': {
      const digest = url.searchParams.get('digest');
      if (digest === null) return ex.sendError(400, 'DIGEST_INVALID', 'digest missing');
      ctx.uploads.delete(id);
      return finishUpload(ctx, ex, repository, upload.chunks, digest);
    }
    case 'DELETE':
      ctx.uploads.delete(id);
      return ex.send(204, {});
    default:
      return unsupported(ex);
  }
}

async function finishUpload(
  ctx: RegistryContext,
  ex: Exchange,
  repository: string,
  chunks: Buffer[],
  digest: string,
): Promise<void> {
  const content = Buffer.concat([...chunks, await readBody(ex.req, BLOB_LIMIT)]);
  if (sha256Digest(content) !== digest) {
    return ex.sendError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
  }
  ctx.store.putBlob(content);
  return blobCreated(ex, repository, digest);
}

function blobCreated(ex: Exchange, repository: string, digest: string): Promise<void> {
  return ex.send(
    201,
    { Location: location(ex, `/v2/${repository}/blobs/${digest}`) },
    Buffer.alloc(0),
    digest,
  );
}

function uploadAccepted(
  ex: Exchange,
  repository: string,
  id: string,
  size: number,
  status: 202 | 204,
): Promise<void> {
  return ex.send(status, {
    Location: location(ex, `/v2/${repository}/blobs/uploads/${id}`),
    Range: `0-${Math.max(0, size - 1)}`,
    'Docker-Upload-UUID': id,
  });
}
