import { createVerify, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRealParts } from './binaries.js';
import { createSigningKey, type SigningKey } from './certs.js';
import { parseScope, startTokenServer, type TokenServer } from './token-server.js';

const PASSWORD = 'tok-server-pass-3f9a';
const users = [{ username: 'alice', password: PASSWORD }];
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface TokenBody {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
}
const tokenBody = async (response: Response) => (await response.json()) as TokenBody;

function decode(token: string) {
  const [header, claims, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(claims!, 'base64url').toString('utf8')),
    input: `${header}.${claims}`,
    signature: Buffer.from(signature!, 'base64url'),
  };
}

describe('parseScope', () => {
  it('splits type, name and actions, allowing ":" in the name', () => {
    expect(parseScope('repository:acme/app:pull,push')).toEqual({
      type: 'repository',
      name: 'acme/app',
      actions: ['pull', 'push'],
    });
    expect(parseScope('repository:host:5000/app:pull')?.name).toBe('host:5000/app');
    expect(parseScope('nonsense')).toBeUndefined();
  });
});

describe.skipIf(missingRealParts(['openssl']) !== undefined)('token server', () => {
  let dir: string;
  let key: SigningKey;
  let server: TokenServer;
  let anonymous: TokenServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rp-token-'));
    key = await createSigningKey(dir);
    server = await startTokenServer({ key, users });
    anonymous = await startTokenServer({ key, users, allowAnonymousPull: true });
  });
  afterAll(async () => {
    await server?.close();
    await anonymous?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (realm: string, query: string, authorization?: string) =>
    fetch(`${realm}?${query}`, authorization ? { headers: { authorization } } : {});

  it('signs an RS256 JWT with the certificate in x5c and the claims distribution checks', async () => {
    const response = await get(
      server.realm,
      `service=${server.service}&scope=repository:acme/app:pull,push&account=alice`,
      basic('alice', PASSWORD),
    );
    expect(response.status).toBe(200);
    const body = await tokenBody(response);
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBe(300);
    expect(typeof body.issued_at).toBe('string');
    const { header, claims, input, signature } = decode(body.token);
    expect(header.alg).toBe('RS256');
    expect(header.x5c).toEqual([key.certificateDer]);
    const certificate = new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
    expect(createVerify('RSA-SHA256').update(input).verify(certificate.publicKey, signature)).toBe(
      true,
    );
    expect(claims).toMatchObject({
      iss: server.issuer,
      aud: server.service,
      sub: 'alice',
      access: [{ type: 'repository', name: 'acme/app', actions: ['pull', 'push'] }],
    });
    expect(claims.exp - claims.iat).toBe(300);
  });

  it('refuses anonymous and wrong credentials, and records requests without passwords', async () => {
    server.clearRequests();
    expect((await get(server.realm, 'scope=repository:acme/app:pull')).status).toBe(401);
    expect(
      (await get(server.realm, 'scope=repository:acme/app:pull', basic('alice', 'wrong-pw-77')))
        .status,
    ).toBe(401);
    expect(server.requests).toEqual([
      { method: 'GET', scope: 'repository:acme/app:pull', status: 401 },
      { method: 'GET', username: 'alice', scope: 'repository:acme/app:pull', status: 401 },
    ]);
    expect(JSON.stringify(server.requests)).not.toContain('wrong-pw-77');
  });

  it('gives anonymous callers pull only when allowed', async () => {
    const response = await get(anonymous.realm, 'scope=repository:acme/app:pull,push');
    expect(response.status).toBe(200);
    const { claims } = decode((await tokenBody(response)).token);
    expect(claims.access).toEqual([{ type: 'repository', name: 'acme/app', actions: ['pull'] }]);
    // wrong credentials are still refused, not downgraded to anonymous
    expect((await get(anonymous.realm, 'scope=x:y:pull', basic('alice', 'nope'))).status).toBe(401);
  });

  it('accepts the OAuth2 password and refresh_token forms', async () => {
    server.clearRequests();
    const post = (form: Record<string, string>) =>
      fetch(server.realm, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    const scope = 'repository:acme/app:pull';
    const password = await post({
      grant_type: 'password',
      username: 'alice',
      password: PASSWORD,
      service: server.service,
      scope,
      client_id: 'docker',
      access_type: 'offline',
    });
    expect(password.status).toBe(200);
    const first = await tokenBody(password);
    expect(decode(first.access_token).claims.access).toEqual([
      { type: 'repository', name: 'acme/app', actions: ['pull'] },
    ]);
    expect(typeof first.refresh_token).toBe('string');

    const refreshed = await post({
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token ?? '',
      scope,
    });
    expect(refreshed.status).toBe(200);
    expect(decode((await tokenBody(refreshed)).access_token).claims.sub).toBe('alice');

    expect(
      (await post({ grant_type: 'refresh_token', refresh_token: 'bogus', scope })).status,
    ).toBe(401);
    expect(
      (await post({ grant_type: 'password', username: 'alice', password: 'bad-9', scope })).status,
    ).toBe(401);
    expect(
      server.requests.map((request) => [request.grantType, request.username, request.status]),
    ).toEqual([
      ['password', 'alice', 200],
      ['refresh_token', 'alice', 200],
      ['refresh_token', undefined, 401],
      ['password', 'alice', 401],
    ]);
    const recorded = JSON.stringify(server.requests);
    expect(recorded).not.toContain(PASSWORD);
    expect(recorded).not.toContain(first.refresh_token!);
  });
});
