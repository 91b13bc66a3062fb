import { createSign, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SigningKey } from './certs.js';

/**
 * A Docker token server for distribution's `auth.token`:
 * https://distribution.github.io/distribution/spec/auth/token/ (GET) and
 * https://distribution.github.io/distribution/spec/auth/oauth/ (POST form).
 */
export interface TokenServer {
  /** `http://127.0.0.1:<port>/token` */
  realm: string;
  service: string;
  issuer: string;
  /** Every token request: who asked (never a password), for what, and the answer. */
  requests: readonly TokenRequestRecord[];
  clearRequests(): void;
  close(): Promise<void>;
}

export interface TokenRequestRecord {
  method: 'GET' | 'POST';
  username?: string;
  scope?: string;
  grantType?: string;
  status: number;
}

export interface TokenServerOptions {
  key: SigningKey;
  users: readonly { username: string; password: string }[];
  allowAnonymousPull?: boolean;
  service?: string;
  issuer?: string;
  expiresInSeconds?: number;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

const GRANTABLE = new Set(['pull', 'push', 'delete', '*']);

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** `repository:acme/app:pull,push` → access entry; the name may itself contain ':' (e.g. a port). */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const service = options.service ?? 'real-parts-registry';
  const issuer = options.issuer ?? 'real-parts-token-issuer';
  const expiresIn = options.expiresInSeconds ?? 300;
  const requests: TokenRequestRecord[] = [];
  const refreshTokens = new Map<string, string>();

  const checkPassword = (username: string, password: string): boolean =>
    options.users.some((user) => user.username === username && safeEqual(user.password, password));

  const sign = (subject: string, access: Access[]): { token: string; issuedAt: string } => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [options.key.certificateDer] };
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + expiresIn,
      nbf: now - 5,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(options.key.privateKeyPem);
    return {
      token: `${input}.${base64url(signature)}`,
      issuedAt: new Date(now * 1000).toISOString(),
    };
  };

  const grant = (username: string | undefined, scopes: string[]): Access[] => {
    const access: Access[] = [];
    for (const scope of scopes) {
      const parsed = parseScope(scope);
      if (!parsed) continue;
      const allowed = username === undefined ? new Set(['pull']) : GRANTABLE;
      const actions = parsed.actions.filter((action) => allowed.has(action));
      if (parsed.type === 'repository' || (parsed.type === 'registry' && username !== undefined)) {
        access.push({ ...parsed, actions });
      }
    }
    return access;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    const method = req.method === 'POST' ? 'POST' : 'GET';
    const record: TokenRequestRecord = { method, status: 0 };
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      requests.push(record);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
      reply(404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
      return;
    }

    let username: string | undefined;
    let authenticated = false;
    let scopes: string[];
    let refreshToken: string | undefined;

    if (method === 'GET') {
      scopes = url.searchParams
        .getAll('scope')
        .flatMap((scope) => scope.split(' '))
        .filter(Boolean);
      const auth = req.headers.authorization ?? '';
      if (/^basic /i.test(auth)) {
        const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        username = colon < 0 ? decoded : decoded.slice(0, colon);
        authenticated = colon >= 0 && checkPassword(username, decoded.slice(colon + 1));
      }
    } else {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      record.grantType = form.get('grant_type') ?? '';
      if (record.grantType === 'password') {
        username = form.get('username') ?? '';
        authenticated = checkPassword(username, form.get('password') ?? '');
        if (authenticated && form.get('access_type') === 'offline') {
          refreshToken = randomBytes(24).toString('base64url');
          refreshTokens.set(refreshToken, username);
        }
      } else if (record.grantType === 'refresh_token') {
        username = refreshTokens.get(form.get('refresh_token') ?? '');
        authenticated = username !== undefined;
      } else {
        if (scopes.length > 0) record.scope = scopes.join(' ');
        reply(400, { error: 'unsupported_grant_type' });
        return;
      }
    }
    if (username !== undefined) record.username = username;
    if (scopes.length > 0) record.scope = scopes.join(' ');

    const anonymousOk = username === undefined && options.allowAnonymousPull === true;
    if (!authenticated && !anonymousOk) {
      reply(
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        { 'www-authenticate': 'Basic realm="real-parts-token"' },
      );
      return;
    }
    const { token, issuedAt } = sign(
      username ?? '',
      grant(authenticated ? username : undefined, scopes),
    );
    reply(200, {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: issuedAt,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
