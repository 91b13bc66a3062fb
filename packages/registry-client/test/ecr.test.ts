import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEcrHost } from '../src/credentials/ecr.js';
import { createCredentialResolver, createRegistryClient, isRegistryError } from '../src/index.js';
import { everythingAbout, rejectionOf, startHarness } from './helpers.js';

const ECR_HOST = '123456789012.dkr.ecr.us-east-2.amazonaws.com';
const ECR_PASSWORD = 'ecr-Password-eyJwYXlsb2FkIjoi';

interface FakeEcr {
  readonly url: string;
  readonly calls: Array<{ target: string | undefined; authorization: string; body: unknown }>;
  expiresAt: Date;
  status: number;
  close(): Promise<void>;
}

/** Answers GetAuthorizationToken in the AWS JSON 1.1 protocol, like ECR's endpoint. */
async function startFakeEcr(): Promise<FakeEcr> {
  const calls: FakeEcr['calls'] = [];
  const state = { expiresAt: new Date(Date.now() + 12 * 3600_000), status: 200 };
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const target = req.headers['x-amz-target'] as string | undefined;
    calls.push({
      target,
      authorization: String(req.headers.authorization ?? ''),
      body: JSON.parse(text || '{}'),
    });
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if (
      req.method !== 'POST' ||
      target !== 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken'
    ) {
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: 'UnknownOperationException' }));
      return;
    }
    if (state.status !== 200) {
      res.statusCode = state.status;
      res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'not allowed' }));
      return;
    }
    res.end(
      JSON.stringify({
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${ECR_PASSWORD}`).toString('base64'),
            expiresAt: state.expiresAt.getTime() / 1000,
            proxyEndpoint: `https://${ECR_HOST}`,
          },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake = {
    url: `http://127.0.0.1:${port}`,
    calls,
    get expiresAt() {
      return state.expiresAt;
    },
    set expiresAt(value: Date) {
      state.expiresAt = value;
    },
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  cleanups.push(fake.close);
  return fake;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const awsEnv = {
  MOLECULE_IMAGE_REGISTRY: `${ECR_HOST}/molecule-ai`,
  DOCKER_CONFIG: '/nonexistent-docker-config',
  AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe('ECR credentials', () => {
  it('parses account and region from ECR hosts only', () => {
    expect(parseEcrHost(ECR_HOST)).toEqual({ accountId: '123456789012', region: 'us-east-2' });
    expect(parseEcrHost('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com')).toEqual({
      accountId: '123456789012',
      region: 'us-gov-west-1',
    });
    expect(parseEcrHost('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')?.region).toBe(
      'cn-north-1',
    );
    expect(parseEcrHost('ghcr.io')).toBeUndefined();
    expect(parseEcrHost('12345.dkr.ecr.us-east-2.amazonaws.com')).toBeUndefined();
  });

  it('GetAuthorizationToken through the SDK, decoded to AWS:<password>, reused until near expiry', async () => {
    const ecr = await startFakeEcr();
    let now = Date.now();
    const resolver = createCredentialResolver({
      env: awsEnv,
      ecrEndpoint: ecr.url,
      now: () => now,
    });
    expect(await resolver.resolve(ECR_HOST)).toEqual({
      kind: 'basic',
      username: 'AWS',
      password: ECR_PASSWORD,
      source: 'ecr',
    });
    expect(ecr.calls).toHaveLength(1);
    expect(ecr.calls[0]?.body).toEqual({ registryIds: ['123456789012'] });
    expect(ecr.calls[0]?.authorization).toMatch(
      /Credential=AKIAFAKEFAKEFAKE\/\d{8}\/us-east-2\/ecr\/aws4_request/,
    );

    await Promise.all(Array.from({ length: 10 }, () => resolver.resolve(ECR_HOST)));
    now = ecr.expiresAt.getTime() - 10 * 60_000;
    await resolver.resolve(ECR_HOST);
    expect(ecr.calls).toHaveLength(1);
    now = ecr.expiresAt.getTime() - 4 * 60_000; // within 5 minutes of expiry: renew
    await resolver.resolve(ECR_HOST);
    expect(ecr.calls).toHaveLength(2);
  });

  it('the env and the Docker config win over ECR', async () => {
    const ecr = await startFakeEcr();
    const resolver = createCredentialResolver({
      env: { ...awsEnv, MOLECULE_REGISTRY_USERNAME: 'AWS', MOLECULE_REGISTRY_PASSWORD: 'static' },
      ecrEndpoint: ecr.url,
    });
    expect(await resolver.resolve(ECR_HOST)).toMatchObject({ source: 'env', password: 'static' });
    expect(ecr.calls).toHaveLength(0);
  });

  it('AWS refusing: UNAUTHORIZED naming the permission, no secret', async () => {
    const ecr = await startFakeEcr();
    ecr.status = 400;
    const error = await rejectionOf(
      createCredentialResolver({ env: awsEnv, ecrEndpoint: ecr.url }).resolve(ECR_HOST),
    );
    expect(isRegistryError(error) && error.code).toBe('UNAUTHORIZED');
    expect((error as Error).message).toContain('ecr:GetAuthorizationToken');
    expect(everythingAbout(error)).not.toContain(awsEnv.AWS_SECRET_ACCESS_KEY);
  });

  it('end to end: a Basic-auth registry accepts the AWS:<password> pair', async () => {
    const ecr = await startFakeEcr();
    const h = await startHarness({
      auth: 'basic',
      users: [{ username: 'AWS', password: ECR_PASSWORD }],
    });
    const digest = h.registry.pushRandomImage('molecule-ai/workspace-template-langgraph');
    const ecrResolver = createCredentialResolver({ env: awsEnv, ecrEndpoint: ecr.url });
    // The fake listens on loopback; it stands in for the ECR host's registry API.
    const client = createRegistryClient({
      credentials: { resolve: (_host, options) => ecrResolver.resolve(ECR_HOST, options) },
      env: {},
    });
    cleanups.push(() => client.close());
    for (let i = 0; i < 5; i++) {
      const result = await client.getManifestDigest(
        h.ref('molecule-ai/workspace-template-langgraph'),
      );
      expect(result.digest).toBe(digest);
    }
    expect(ecr.calls).toHaveLength(1);
    const manifests = h.registry.requests.filter((r) => r.kind === 'manifest');
    expect(
      manifests.every((r) => r.presented.scheme === 'basic' && r.presented.username === 'AWS'),
    ).toBe(true);
  });
});
