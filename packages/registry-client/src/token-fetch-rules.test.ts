import { describe, expect, it } from 'vitest';
import { isRegistryError } from './errors.js';
import { createHttpPolicy, parseInsecureRegistries } from './http-policy.js';
import { fetchToken } from './token-fetch.js';
import type { Transport, TransportRequest } from './transport.js';

function recordingTransport(sent: TransportRequest[]): Transport {
  return {
    async send(request) {
      sent.push(request);
      return {
        status: 200,
        headers: {},
        body: Buffer.from(JSON.stringify({ access_token: 'tok', expires_in: 120 })),
        url: request.url,
        retryAfterMs: undefined,
      };
    },
    async close() {},
  };
}

const basic = { kind: 'basic', username: 'u', password: 'plain-Secret-1', source: 'env' } as const;

function run(registryHost: string, realm: string, env: Record<string, string> = {}) {
  const sent: TransportRequest[] = [];
  const result = fetchToken({
    transport: recordingTransport(sent),
    policy: createHttpPolicy(parseInsecureRegistries(env.MOLECULE_INSECURE_REGISTRIES)),
    realm: new URL(realm),
    service: 'svc',
    scope: 'repository:a/b:pull',
    registryHost,
    credential: basic,
    clientId: 'test',
    now: () => 0,
  });
  return { sent, result };
}

describe('fetchToken plain-http rule', () => {
  it('never sends credentials over plain http to a host that does not qualify', async () => {
    const { sent, result } = run('registry.example.com', 'http://auth.example.com/token');
    const error = await result.catch((e) => e);
    expect(isRegistryError(error) && error.code).toBe('CONFIG');
    expect(sent).toHaveLength(0);
  });

  it('allows https, a loopback realm on another port, and an insecure-listed registry host', async () => {
    for (const [host, realm, env] of [
      ['registry.example.com', 'https://auth.example.com/token', {}],
      ['127.0.0.1:5000', 'http://127.0.0.1:5001/token', {}],
      [
        'reg.lan:5000',
        'http://reg.lan:5001/token',
        { MOLECULE_INSECURE_REGISTRIES: 'reg.lan:5000' },
      ],
    ] as const) {
      const { sent, result } = run(host, realm, env);
      expect((await result).token).toBe('tok');
      expect(sent[0]?.headers?.authorization).toMatch(/^Basic /);
      expect(sent[0]?.url.searchParams.get('account')).toBe('u');
    }
  });
});
