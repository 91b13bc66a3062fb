/**
 * Harbor webhooks (pure): which Default-format and CloudEvents-format events trigger a check
 * of which runtime, and why the others are ignored or refused. Payloads are shaped after
 * Harbor's documentation and formatter sources, not captured from a running Harbor.
 */
import { describe, expect, it } from 'vitest';
import type { WatchTarget } from '../../src/config.js';
import { parseHarborCloudEvent, parseHarborWebhook } from '../../src/hooks/formats/harbor.js';
import {
  createHookMatcher,
  type HookParseResult,
  type HookVerdict,
} from '../../src/hooks/matcher.js';
import { type HarborEventOptions, harborCloudEventBody, harborWebhookBody } from './payloads.js';

const HOST = 'harbor.example.com';
const targets: WatchTarget[] = (['codex', 'langgraph'] as const).map((runtime) => ({
  runtime,
  image: `${HOST}/molecule-ai/workspace-template-${runtime}:latest`,
}));
const matcher = createHookMatcher({ targets });

const DIGEST = `sha256:${'12'.repeat(32)}`;

function onlyVerdict(result: HookParseResult): HookVerdict {
  if (!result.ok) throw new Error(result.error);
  expect(result.verdicts).toHaveLength(1);
  return result.verdicts[0]!;
}

/** Cases shared by both payload formats; `type` is given per format below. */
const cases: ReadonlyArray<
  readonly [name: string, options: HarborEventOptions, expected: 'accepted' | string]
> = [
  ['a push of latest', {}, 'accepted'],
  ['the host in another case', { host: 'HARBOR.example.com' }, 'accepted'],
  ['the host with the default https port', { host: `${HOST}:443` }, 'accepted'],
  ['another tag', { tag: 'v1.2.3' }, 'tag'],
  ['a push by digest (the digest repeated as tag)', { tag: DIGEST }, 'tag'],
  // The host and organisation do not matter (a proxy may rewrite Host): the check asks the
  // configured registry, trusting nothing in the body.
  ['another Harbor host', { host: 'harbor.other.example.com' }, 'accepted'],
  ['the same host on another port', { host: `${HOST}:8443` }, 'accepted'],
  ['no resource_url (repository from repo_full_name)', { resourceUrl: null }, 'accepted'],
  ['an unparsable resource_url', { resourceUrl: 'not a reference' }, 'accepted'],
  ['another project', { project: 'someone-else' }, 'accepted'],
  ['a deeper path', { name: 'x/workspace-template-langgraph' }, 'accepted'],
  ['another repository', { name: 'website' }, 'repository'],
  ['a suffix match', { name: 'my-workspace-template-langgraph' }, 'repository'],
  ['a runtime not watched', { name: 'workspace-template-hermes' }, 'not_watched'],
  ['a similar name', { name: 'workspace-template-langgraph-old' }, 'not_watched'],
  ['a push naming no artifact', { resources: [] }, 'tag'],
];

function expectVerdict(verdict: HookVerdict, expected: string): void {
  if (expected === 'accepted') {
    expect(verdict).toMatchObject({
      outcome: 'accepted',
      runtime: 'langgraph',
      repository: expect.stringMatching(/(^|\/)workspace-template-langgraph$/),
      tag: 'latest',
    });
  } else {
    expect(verdict).toMatchObject({ outcome: 'ignored', reason: expected });
  }
}

describe('Harbor webhook, Default format', () => {
  const verdictOf = (options: HarborEventOptions) =>
    onlyVerdict(parseHarborWebhook(JSON.parse(harborWebhookBody(options)), matcher));

  it.each(cases)('%s → %s', (_name, options, expected) => {
    expectVerdict(verdictOf(options), expected);
  });

  it.each([
    ['PULL_ARTIFACT', {}],
    ['DELETE_ARTIFACT', {}],
    ['SCANNING_COMPLETED', {}],
    ['SCANNING_FAILED', { tag: 'v1' }],
    ['TAG_RETENTION', { resources: [] }],
    ['QUOTA_EXCEED', { resources: [] }],
    ['push_artifact', {}],
  ] as const)('type %s → action', (type, options) => {
    expect(verdictOf({ type, ...options })).toMatchObject({
      outcome: 'ignored',
      reason: 'action',
      detail: `action ${type}`,
    });
  });

  it('says why a push by digest is ignored', () => {
    expect(verdictOf({ tag: DIGEST })).toMatchObject({ detail: expect.stringMatching(/no tag/) });
  });

  it('reports the claimed digest without acting on it', () => {
    expect(verdictOf({ digest: DIGEST })).toMatchObject({
      outcome: 'accepted',
      claimedDigest: DIGEST,
    });
  });

  it('gives one verdict per resource, in order', () => {
    const body = JSON.parse(harborWebhookBody());
    body.event_data.resources = [
      {
        digest: DIGEST,
        tag: 'v2',
        resource_url: `${HOST}/molecule-ai/workspace-template-codex:v2`,
      },
      {
        digest: DIGEST,
        tag: 'latest',
        resource_url: `${HOST}/molecule-ai/workspace-template-codex:latest`,
      },
    ];
    const result = parseHarborWebhook(body, matcher);
    expect(
      result.ok && result.verdicts.map((v) => (v.outcome === 'accepted' ? v.runtime : v.reason)),
    ).toEqual(['tag', 'codex']);
  });

  it('takes the tag from resource_url when the resource has none', () => {
    const body = JSON.parse(harborWebhookBody());
    delete body.event_data.resources[0].tag;
    expect(onlyVerdict(parseHarborWebhook(body, matcher))).toMatchObject({
      outcome: 'accepted',
      tag: 'latest',
    });
  });

  it('ignores the body digest: a resource without one is still checked', () => {
    const body = JSON.parse(harborWebhookBody());
    delete body.event_data.resources[0].digest;
    expect(onlyVerdict(parseHarborWebhook(body, matcher))).toMatchObject({
      outcome: 'accepted',
      claimedDigest: undefined,
    });
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'PUSH_ARTIFACT'],
    ['no event_data', { type: 'PUSH_ARTIFACT', occur_at: 1 }],
    ['no type', { event_data: { resources: [] } }],
    ['a type that is not a string', { type: 1, event_data: {} }],
    ['event_data not an object', { type: 'PUSH_ARTIFACT', event_data: 'push' }],
    ['resources not a list', { type: 'PUSH_ARTIFACT', event_data: { resources: {} } }],
    [
      'a resource_url that is not a string',
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ tag: 'latest', resource_url: 1 }] } },
    ],
    ['occur_at not a number', { type: 'PUSH_ARTIFACT', occur_at: 'now', event_data: {} }],
  ])('refuses %s as malformed', (_name, body) => {
    const result = parseHarborWebhook(body, matcher);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^not a Harbor webhook/);
  });
});

describe('Harbor webhook, CloudEvents format', () => {
  const verdictOf = (options: HarborEventOptions) =>
    onlyVerdict(parseHarborCloudEvent(JSON.parse(harborCloudEventBody(options)), matcher));

  it.each(cases)('%s → %s', (_name, options, expected) => {
    expectVerdict(verdictOf(options), expected);
  });

  it.each([
    'harbor.artifact.pulled',
    'harbor.artifact.deleted',
    'harbor.scan.completed',
    'harbor.tag_retention.finished',
    'PUSH_ARTIFACT',
  ])('type %s → action', (type) => {
    expect(verdictOf({ type })).toMatchObject({ outcome: 'ignored', reason: 'action' });
  });

  it('acknowledges an event with null data', () => {
    const body = { ...JSON.parse(harborCloudEventBody({ type: 'harbor.quota.exceeded' })) };
    body.data = null;
    expect(onlyVerdict(parseHarborCloudEvent(body, matcher))).toMatchObject({
      outcome: 'ignored',
      reason: 'action',
    });
  });

  it.each([
    ['no type', { specversion: '1.0', data: {} }],
    ['specversion not a string', { specversion: 1, type: 'harbor.artifact.pushed', data: {} }],
    ['data not an object', { specversion: '1.0', type: 'harbor.artifact.pushed', data: 'x' }],
    [
      'resources not a list',
      { specversion: '1.0', type: 'harbor.artifact.pushed', data: { resources: 'latest' } },
    ],
  ])('refuses %s as malformed', (_name, body) => {
    const result = parseHarborCloudEvent(body, matcher);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^not a Harbor CloudEvent/);
  });
});
