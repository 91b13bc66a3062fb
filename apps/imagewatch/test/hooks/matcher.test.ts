/**
 * Parsing and matching of registry notifications (pure): which events trigger a check of
 * which runtime, and why the others are ignored or refused.
 */
import type { Runtime } from '@molecule/registry';
import { describe, expect, it } from 'vitest';
import type { WatchTarget } from '../../src/config.js';
import { parseDistributionEnvelope } from '../../src/hooks/formats/distribution.js';
import { parseGitHubDelivery } from '../../src/hooks/formats/github.js';
import { createHookMatcher, type HookVerdict } from '../../src/hooks/matcher.js';
import { distributionEvent, githubPackageBody } from './payloads.js';

const HOST = 'registry.example.com:5000';
const targets = (prefix: string, runtimes: string[]): WatchTarget[] =>
  runtimes.map((runtime) => ({
    runtime: runtime as Runtime,
    image: `${prefix}/workspace-template-${runtime}:latest`,
  }));

const matcher = createHookMatcher({
  targets: targets(`${HOST}/molecule-ai`, ['codex', 'langgraph']),
});

function verdictOf(event: Record<string, unknown>): HookVerdict {
  const result = parseDistributionEnvelope({ events: [event] }, matcher);
  if (!result.ok) throw new Error(result.error);
  return result.verdicts[0]!;
}

describe('distribution envelope', () => {
  const repo = 'molecule-ai/workspace-template-langgraph';
  it.each([
    ['manifest push of latest', { repository: repo, tag: 'latest', host: HOST }, 'accepted'],
    [
      'host differs only in case',
      { repository: repo, tag: 'latest', host: HOST.toUpperCase() },
      'accepted',
    ],
    ['another tag', { repository: repo, tag: 'v1.2.3', host: HOST }, 'tag'],
    [
      'a blob push (no tag)',
      { repository: repo, host: HOST, mediaType: 'application/octet-stream' },
      'tag',
    ],
    ['a manifest push by digest (no tag)', { repository: repo, host: HOST }, 'tag'],
    ['a pull of latest', { repository: repo, tag: 'latest', host: HOST, action: 'pull' }, 'action'],
    ['a delete', { repository: repo, host: HOST, action: 'delete' }, 'action'],
    ['a mount', { repository: repo, host: HOST, action: 'mount' }, 'action'],
    // Whichever host or organisation: a proxy may rewrite Host, and the check asks the
    // configured registry anyway (SPEC: the body is never trusted).
    [
      'another registry host',
      { repository: repo, tag: 'latest', host: 'other.example.com:5000' },
      'accepted',
    ],
    [
      'the same host without the port',
      { repository: repo, tag: 'latest', host: 'registry.example.com' },
      'accepted',
    ],
    [
      'another organisation',
      { repository: 'someone-else/workspace-template-langgraph', tag: 'latest', host: HOST },
      'accepted',
    ],
    [
      'a deeper path',
      { repository: 'molecule-ai/x/workspace-template-langgraph', tag: 'latest', host: HOST },
      'accepted',
    ],
    [
      'a repository that only contains the template name',
      { repository: 'molecule-ai/workspace-template-langgraph/extra', tag: 'latest', host: HOST },
      'repository',
    ],
    [
      'a similar name',
      { repository: 'molecule-ai/workspace-template-langgraph-old', tag: 'latest', host: HOST },
      'not_watched',
    ],
    [
      'a suffix match',
      { repository: 'molecule-ai/my-workspace-template-langgraph', tag: 'latest', host: HOST },
      'repository',
    ],
    [
      'a runtime not watched',
      { repository: 'molecule-ai/workspace-template-hermes', tag: 'latest', host: HOST },
      'not_watched',
    ],
  ] as const)('%s → %s', (_name, options, expected) => {
    const verdict = verdictOf(distributionEvent(options));
    if (expected === 'accepted') {
      expect(verdict).toMatchObject({ outcome: 'accepted', runtime: 'langgraph', tag: 'latest' });
    } else {
      expect(verdict).toMatchObject({ outcome: 'ignored', reason: expected });
    }
  });

  it('accepts an event without request.host: the host is not needed to know the runtime', () => {
    const event = distributionEvent({ repository: repo, tag: 'latest', host: HOST });
    delete event.request;
    expect(verdictOf(event)).toMatchObject({ outcome: 'accepted', runtime: 'langgraph' });
  });

  it('keeps one verdict per event, in order, and reports the claimed digest without using it', () => {
    const claimed = `sha256:${'12'.repeat(32)}`;
    const result = parseDistributionEnvelope(
      {
        events: [
          distributionEvent({
            repository: repo,
            host: HOST,
            mediaType: 'application/octet-stream',
          }),
          distributionEvent({ repository: repo, tag: 'latest', host: HOST, digest: claimed }),
          distributionEvent({
            repository: 'molecule-ai/workspace-template-codex',
            tag: 'latest',
            host: HOST,
          }),
        ],
      },
      matcher,
    );
    expect(
      result.ok && result.verdicts.map((v) => (v.outcome === 'accepted' ? v.runtime : v.reason)),
    ).toEqual(['tag', 'langgraph', 'codex']);
    expect(result.ok && result.verdicts[1]).toMatchObject({ claimedDigest: claimed });
  });

  it.each([
    ['an array', []],
    ['an object without events', {}],
    ['events not a list', { events: 'push' }],
    ['an event without target', { events: [{ action: 'push' }] }],
    ['a target without repository', { events: [{ action: 'push', target: { tag: 'latest' } }] }],
    ['an action that is not a string', { events: [{ action: 1, target: { repository: 'a/b' } }] }],
    ['null', null],
    ['a string', 'push'],
  ])('refuses %s as malformed', (_name, body) => {
    const result = parseDistributionEnvelope(body, matcher);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^not a distribution envelope/);
  });

  it('accepts an empty envelope (nothing to do)', () => {
    expect(parseDistributionEnvelope({ events: [] }, matcher)).toEqual({ ok: true, verdicts: [] });
  });

  it('matches repositories of a bare-host prefix', () => {
    const bare = createHookMatcher({ targets: targets('localhost:5000', ['codex']) });
    const ok = parseDistributionEnvelope(
      {
        events: [
          distributionEvent({
            repository: 'workspace-template-codex',
            tag: 'latest',
            host: 'localhost:5000',
          }),
        ],
      },
      bare,
    );
    expect(ok.ok && ok.verdicts[0]).toMatchObject({ outcome: 'accepted', runtime: 'codex' });
  });
});

describe('GitHub package webhooks', () => {
  const ghcr = createHookMatcher({ targets: targets('ghcr.io/molecule-ai', ['langgraph']) });
  const verdict = (event: string, body: string, m = ghcr) => {
    const result = parseGitHubDelivery(event, JSON.parse(body), m);
    if (!result.ok) throw new Error(result.error);
    return result.verdicts[0]!;
  };

  it.each([
    ['package published latest', 'package', {}, 'accepted'],
    [
      'registry_package published latest',
      'registry_package',
      { event: 'registry_package' as const },
      'accepted',
    ],
    ['package updated latest', 'package', { action: 'updated' }, 'accepted'],
    ['owner login in another case', 'package', { owner: 'Molecule-AI' }, 'accepted'],
    ['another tag', 'package', { tag: 'v2' }, 'tag'],
    ['an untagged version', 'package', { tag: null }, 'tag'],
    [
      'another owner (the organisation does not matter)',
      'package',
      { owner: 'someone-else' },
      'accepted',
    ],
    ['another package', 'package', { name: 'website' }, 'repository'],
    ['a runtime not watched', 'package', { name: 'workspace-template-codex' }, 'not_watched'],
    ['an npm package', 'package', { packageType: 'npm' }, 'package_type'],
    [
      'a package_url on another host',
      'package',
      { packageUrlHost: 'docker.pkg.github.com' },
      'accepted',
    ],
    ['an unknown action', 'package', { action: 'deleted' }, 'action'],
  ] as const)('%s → %s', (_name, event, options, expected) => {
    const result = verdict(event, githubPackageBody(options));
    if (expected === 'accepted') {
      expect(result).toMatchObject({ outcome: 'accepted', runtime: 'langgraph', tag: 'latest' });
    } else {
      expect(result).toMatchObject({ outcome: 'ignored', reason: expected });
    }
  });

  it('accepts the upstream GitHub package event when the configured registry is a mirror', () => {
    const mirror = createHookMatcher({ targets: targets(`${HOST}/molecule-ai`, ['langgraph']) });
    expect(verdict('package', githubPackageBody(), mirror)).toMatchObject({
      outcome: 'accepted',
      runtime: 'langgraph',
    });
  });

  it('nested prefix paths map to nested package names', () => {
    const nested = createHookMatcher({
      targets: targets('ghcr.io/molecule-ai/mirror', ['langgraph']),
    });
    expect(
      verdict(
        'package',
        githubPackageBody({ name: 'mirror/workspace-template-langgraph' }),
        nested,
      ),
    ).toMatchObject({ outcome: 'accepted', runtime: 'langgraph' });
  });

  it.each(['ping', 'push', undefined])('acknowledges and ignores event %s', (event) => {
    const result = parseGitHubDelivery(event, { zen: 'Keep it logically awesome.' }, ghcr);
    expect(result).toMatchObject({ ok: true, verdicts: [{ outcome: 'ignored', reason: 'event' }] });
  });

  it.each([
    ['no package object', 'package', { action: 'published' }],
    ['package under the other key', 'registry_package', JSON.parse(githubPackageBody())],
    [
      'package without owner',
      'package',
      { action: 'published', package: { name: 'x', package_type: 'CONTAINER' } },
    ],
    ['an array', 'package', []],
  ])('refuses %s as malformed', (_name, event, body) => {
    const result = parseGitHubDelivery(event, body, ghcr);
    expect(result.ok).toBe(false);
  });
});

describe('createHookMatcher verdicts', () => {
  const push = (repository: string, tag: string | undefined) => ({
    isPush: true,
    action: 'push',
    host: HOST,
    repository,
    tag,
    claimedDigest: undefined,
  });

  it('watches latest for a target written without a tag', () => {
    const untagged = createHookMatcher({
      targets: [{ runtime: 'codex', image: `${HOST}/molecule-ai/workspace-template-codex` }],
    });
    expect(untagged.match(push('molecule-ai/workspace-template-codex', 'latest'))).toMatchObject({
      outcome: 'accepted',
      runtime: 'codex',
    });
  });

  it('says which runtime is not watched, with the repository and tag', () => {
    expect(matcher.match(push('molecule-ai/workspace-template-hermes', 'latest'))).toEqual({
      outcome: 'ignored',
      reason: 'not_watched',
      detail: 'runtime hermes is not watched',
      repository: 'molecule-ai/workspace-template-hermes',
      tag: 'latest',
    });
  });

  it('names the tag it ignores, or that there is none (and then has no tag field)', () => {
    expect(matcher.match(push('molecule-ai/workspace-template-codex', 'v1'))).toEqual({
      outcome: 'ignored',
      reason: 'tag',
      detail: 'tag v1',
      repository: 'molecule-ai/workspace-template-codex',
      tag: 'v1',
    });
    const untagged = matcher.match(push('molecule-ai/workspace-template-codex', undefined));
    expect(untagged).toEqual({
      outcome: 'ignored',
      reason: 'tag',
      detail: 'no tag (a blob or a push by digest)',
      repository: 'molecule-ai/workspace-template-codex',
    });
    expect('tag' in untagged).toBe(false);
  });
});
