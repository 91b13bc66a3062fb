import { RealPartsError } from './errors.js';
import type { BuiltImage } from './image.js';

export interface PushImageOptions {
  /** `http://127.0.0.1:5000` */
  registryUrl: string;
  repository: string;
  tag: string;
  image: BuiltImage;
  credentials?: { username: string; password: string };
}

/** One auth-challenge param list, e.g. `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const match = /^\s*(\S+)\s*(.*)$/s.exec(header);
  const params: Record<string, string> = {};
  for (const param of (match?.[2] ?? '').matchAll(
    /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g,
  )) {
    params[param[1]!.toLowerCase()] =
      param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
  }
  return { scheme: (match?.[1] ?? '').toLowerCase(), params };
}

function basic(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

export interface PushArtifactOptions {
  /** `http://127.0.0.1:5000` */
  registryUrl: string;
  repository: string;
  /** A tag (`sha256-<hex>.sig`, `sha256-<hex>`) or the manifest's own digest. */
  reference: string;
  /** The exact manifest bytes; the registry stores them as they are. */
  manifest: Buffer;
  mediaType: string;
  /** Every blob the manifest names, by digest; those already present are skipped. */
  blobs: Map<string, Buffer>;
  credentials?: { username: string; password: string };
}

/**
 * Push a built image over the distribution HTTP API: blobs (skipping those HEAD finds),
 * then the manifest. Answers a Basic challenge with the credentials and a Bearer challenge
 * with a token for `repository:<repo>:pull,push`. Returns the registry's
 * Docker-Content-Digest for the manifest.
 *
 * @example
 * const digest = await pushImage({ registryUrl: reg.url, repository: 'a/b', tag: 'latest', image,
 *   credentials: { username: 'alice', password: 'secret' } });
 */
export async function pushImage(options: PushImageOptions): Promise<string> {
  return pushArtifact({
    registryUrl: options.registryUrl,
    repository: options.repository,
    reference: options.tag,
    manifest: options.image.manifest.body,
    mediaType: options.image.manifest.mediaType,
    blobs: options.image.blobs,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

/**
 * Push any manifest with its blobs (a cosign `.sig` manifest, a referrer, a referrers tag
 * index), with the same auth handling as `pushImage`. Returns the registry's
 * Docker-Content-Digest.
 *
 * @example
 * const sig = createSigManifest([createSimpleSignature({ key, digest })]);
 * await pushArtifact({ registryUrl: reg.url, repository: 'a/b', reference: cosignSignatureTag(digest),
 *   manifest: sig.manifest, mediaType: sig.mediaType, blobs: sig.blobs });
 */
export async function pushArtifact(options: PushArtifactOptions): Promise<string> {
  const session = createPushSession(options);
  for (const [digest, content] of options.blobs) await session.uploadBlob(digest, content);
  return session.putManifest(options.reference, options.mediaType, options.manifest);
}

interface PushSession {
  uploadBlob(digest: string, content: Buffer): Promise<void>;
  putManifest(reference: string, mediaType: string, body: Buffer): Promise<string>;
}

/** One repository's uploads, sharing the Authorization learned from the first challenge. */
function createPushSession(options: {
  registryUrl: string;
  repository: string;
  credentials?: { username: string; password: string };
}): PushSession {
  const base = options.registryUrl.replace(/\/+$/, '');
  const repo = options.repository;
  let authorization: string | undefined;

  /** fetch with the current Authorization; a 401 is answered once with the challenge's scheme. */
  const request = async (
    method: string,
    url: string,
    init: { headers?: Record<string, string>; body?: Buffer } = {},
  ) => {
    const send = () =>
      fetch(url, {
        method,
        headers: { ...init.headers, ...(authorization ? { authorization } : {}) },
        ...(init.body ? { body: init.body } : {}),
        redirect: 'manual',
      });
    let response = await send();
    if (response.status !== 401) return response;
    await response.body?.cancel();
    authorization = await answerChallenge(
      response.headers.get('www-authenticate') ?? '',
      method,
      url,
    );
    response = await send();
    return response;
  };

  const answerChallenge = async (header: string, method: string, url: string): Promise<string> => {
    const { scheme, params } = parseChallenge(header);
    const where = `[${method}] "${new URL(url).pathname}"`;
    if (scheme === 'basic') {
      if (!options.credentials)
        throw new RealPartsError(
          'PUSH_FAILED',
          `${where}: Basic auth required but no credentials given`,
          { status: 401 },
        );
      return basic(options.credentials);
    }
    if (scheme === 'bearer' && params.realm) {
      const tokenUrl = new URL(params.realm);
      if (params.service) tokenUrl.searchParams.set('service', params.service);
      tokenUrl.searchParams.set('scope', `repository:${repo}:pull,push`);
      if (options.credentials) tokenUrl.searchParams.set('account', options.credentials.username);
      const response = await fetch(tokenUrl, {
        headers: options.credentials ? { authorization: basic(options.credentials) } : {},
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new RealPartsError(
          'PUSH_FAILED',
          `[GET] "${tokenUrl.origin}${tokenUrl.pathname}": token request answered ${response.status}`,
          { status: response.status },
        );
      }
      const body = (await response.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token)
        throw new RealPartsError(
          'PUSH_FAILED',
          `[GET] "${tokenUrl.origin}${tokenUrl.pathname}": no token in response`,
        );
      return `Bearer ${token}`;
    }
    throw new RealPartsError(
      'PUSH_FAILED',
      `${where}: unsupported auth challenge ${scheme || '(none)'}`,
      { status: 401 },
    );
  };

  const fail = async (response: Response, method: string, url: string): Promise<never> => {
    const text = (await response.text()).slice(0, 300);
    throw new RealPartsError(
      'PUSH_FAILED',
      `[${method}] "${new URL(url).pathname}": ${response.status} ${text}`,
      { status: response.status },
    );
  };

  return {
    async uploadBlob(digest, content) {
      const blobUrl = `${base}/v2/${repo}/blobs/${digest}`;
      const head = await request('HEAD', blobUrl);
      await head.body?.cancel();
      if (head.ok) return;
      if (head.status !== 404) await fail(head, 'HEAD', blobUrl);

      const startUrl = `${base}/v2/${repo}/blobs/uploads/`;
      const started = await request('POST', startUrl);
      if (started.status !== 202) await fail(started, 'POST', startUrl);
      await started.body?.cancel();
      const location = started.headers.get('location');
      if (!location)
        throw new RealPartsError(
          'PUSH_FAILED',
          `[POST] "${new URL(startUrl).pathname}": no Location`,
        );
      const uploadUrl = new URL(location, `${base}/`);
      uploadUrl.searchParams.set('digest', digest);
      const put = await request('PUT', uploadUrl.href, {
        headers: { 'content-type': 'application/octet-stream' },
        body: content,
      });
      if (put.status !== 201) await fail(put, 'PUT', uploadUrl.href);
      await put.body?.cancel();
    },
    async putManifest(reference, mediaType, body) {
      const manifestUrl = `${base}/v2/${repo}/manifests/${reference}`;
      const put = await request('PUT', manifestUrl, {
        headers: { 'content-type': mediaType },
        body,
      });
      if (put.status !== 201) await fail(put, 'PUT', manifestUrl);
      await put.body?.cancel();
      const digest = put.headers.get('docker-content-digest');
      if (!digest)
        throw new RealPartsError(
          'PUSH_FAILED',
          `[PUT] "${new URL(manifestUrl).pathname}": no Docker-Content-Digest`,
        );
      return digest;
    },
  };
}
