import { type Authority, formatScope, parseScopes } from './authority.js';
import { readBody } from './body.js';
import type { Authorization } from './credentials.js';
import { tokenId } from './digest.js';
import type { Exchange } from './exchange.js';
import type { FakeRegistryOptions } from './types.js';

export interface TokenContext {
  readonly authority: Authority;
  readonly service: string;
  readonly omitExpiresIn: boolean;
  readonly fields: NonNullable<FakeRegistryOptions['tokenResponseFields']>;
  now(): number;
}

const FORM_LIMIT = 64 * 1024;

/**
 * The token endpoint: GET as in https://distribution.github.io/distribution/spec/auth/token/
 * and POST (OAuth2 password and refresh_token grants) as in
 * https://distribution.github.io/distribution/spec/auth/oauth/
 */
export async function handleToken(
  ctx: TokenContext,
  ex: Exchange,
  auth: Authorization,
  url: URL,
): Promise<void> {
  if (ex.record.method === 'GET') return getToken(ctx, ex, auth, url);
  if (ex.record.method === 'POST') return postToken(ctx, ex);
  return ex.sendJson(405, { details: 'method not allowed' });
}

async function getToken(
  ctx: TokenContext,
  ex: Exchange,
  auth: Authorization,
  url: URL,
): Promise<void> {
  const service = url.searchParams.get('service');
  if (service !== ctx.service) {
    return ex.sendJson(400, { details: `unknown service: ${service ?? '(missing)'}` });
  }
  let username: string | undefined;
  if (auth.scheme === 'basic') {
    if (!ctx.authority.checkUser(auth.username, auth.password)) {
      return ex.sendJson(401, { details: 'incorrect username or password' });
    }
    username = auth.username;
  }
  const now = ctx.now();
  const granted = ctx.authority.grant(
    username,
    parseScopes(url.searchParams.getAll('scope')),
    now,
    url.searchParams.get('offline_token') === 'true',
  );
  if (!granted.ok) return ex.sendJson(granted.status, { details: granted.message });
  const body: Record<string, unknown> = {};
  if (ctx.fields !== 'access_token') body.token = granted.token;
  if (ctx.fields !== 'token') body.access_token = granted.token;
  if (!ctx.omitExpiresIn) body.expires_in = granted.expiresInSeconds;
  body.issued_at = new Date(now).toISOString();
  if (granted.refreshToken !== undefined) body.refresh_token = granted.refreshToken;
  return ex.sendJson(200, body);
}

async function postToken(ctx: TokenContext, ex: Exchange): Promise<void> {
  const form = new URLSearchParams((await readBody(ex.req, FORM_LIMIT)).toString('utf8'));
  const grantType = form.get('grant_type') ?? '';
  ex.record.grantType = grantType;
  if (form.get('service') !== ctx.service) {
    return ex.sendJson(400, { error: 'invalid_request', error_description: 'unknown service' });
  }
  if (!form.get('client_id')) {
    return ex.sendJson(400, { error: 'invalid_request', error_description: 'missing client_id' });
  }
  let username: string | undefined;
  if (grantType === 'password') {
    const user = form.get('username') ?? '';
    if (user) ex.record.presented.username = user;
    if (!ctx.authority.checkUser(user, form.get('password') ?? '')) {
      return ex.sendJson(401, { error: 'invalid_grant' });
    }
    username = user;
  } else if (grantType === 'refresh_token') {
    const refreshToken = form.get('refresh_token') ?? '';
    if (refreshToken) ex.record.presented.tokenId = tokenId(refreshToken);
    username = ctx.authority.refreshTokenUser(refreshToken);
    if (username === undefined) return ex.sendJson(401, { error: 'invalid_grant' });
    ex.record.presented.username = username;
  } else {
    return ex.sendJson(400, { error: 'unsupported_grant_type' });
  }
  const now = ctx.now();
  const granted = ctx.authority.grant(
    username,
    parseScopes(form.getAll('scope')),
    now,
    form.get('access_type') === 'offline',
  );
  if (!granted.ok) return ex.sendJson(granted.status, { error: 'invalid_grant' });
  const body: Record<string, unknown> = { access_token: granted.token };
  if (!ctx.omitExpiresIn) body.expires_in = granted.expiresInSeconds;
  body.scope = granted.scopes.map(formatScope).join(' ');
  body.issued_at = new Date(now).toISOString();
  if (granted.refreshToken !== undefined) body.refresh_token = granted.refreshToken;
  return ex.sendJson(200, body);
}
