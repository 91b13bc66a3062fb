import { REPOSITORY_PATTERN } from './store.js';

/** The distribution API routes the fake serves, https://distribution.github.io/distribution/spec/api/ */
export type Route =
  | { readonly kind: 'ping' }
  | { readonly kind: 'token' }
  | { readonly kind: 'manifest'; readonly repository: string; readonly reference: string }
  | { readonly kind: 'blob'; readonly repository: string; readonly digest: string }
  | { readonly kind: 'blob'; readonly repository: string; readonly upload: string | undefined }
  | { readonly kind: 'other'; readonly name: 'catalog' }
  | { readonly kind: 'other'; readonly name: 'tags'; readonly repository: string }
  | { readonly kind: 'other'; readonly name: 'unknown' };

const NAME = `(${REPOSITORY_PATTERN})`;
const UPLOAD_START = new RegExp(`^/v2/${NAME}/blobs/uploads/?$`);
const UPLOAD = new RegExp(`^/v2/${NAME}/blobs/uploads/([A-Za-z0-9-]+)$`);
const BLOB = new RegExp(`^/v2/${NAME}/blobs/([^/]+)$`);
const MANIFEST = new RegExp(`^/v2/${NAME}/manifests/([^/]+)$`);
const TAGS = new RegExp(`^/v2/${NAME}/tags/list$`);

/** Maps a pathname to a route; `/token` only where a token endpoint listens. */
export function matchRoute(pathname: string, servesToken: boolean, servesRegistry: boolean): Route {
  if (servesToken && pathname === '/token') return { kind: 'token' };
  if (!servesRegistry) return { kind: 'other', name: 'unknown' };
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'ping' };
  if (pathname === '/v2/_catalog') return { kind: 'other', name: 'catalog' };
  let match = UPLOAD_START.exec(pathname);
  if (match) return { kind: 'blob', repository: match[1]!, upload: undefined };
  match = UPLOAD.exec(pathname);
  if (match) return { kind: 'blob', repository: match[1]!, upload: match[2]! };
  match = BLOB.exec(pathname);
  if (match) return { kind: 'blob', repository: match[1]!, digest: decodeURIComponent(match[2]!) };
  match = MANIFEST.exec(pathname);
  if (match) {
    return { kind: 'manifest', repository: match[1]!, reference: decodeURIComponent(match[2]!) };
  }
  match = TAGS.exec(pathname);
  if (match) return { kind: 'other', name: 'tags', repository: match[1]! };
  return { kind: 'other', name: 'unknown' };
}

/** The repository a route is about, for challenges and scope checks. */
export function routeRepository(route: Route): string | undefined {
  return 'repository' in route ? route.repository : undefined;
}
