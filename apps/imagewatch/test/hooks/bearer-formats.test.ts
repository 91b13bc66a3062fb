/** Telling the bearer-authenticated formats apart by shape (pure). */
import { describe, expect, it } from 'vitest';
import { bearerFormatOf, parseBearerDelivery } from '../../src/hooks/formats/bearer.js';
import { createHookMatcher } from '../../src/hooks/matcher.js';
import {
  distributionEnvelope,
  distributionEvent,
  harborCloudEventBody,
  harborWebhookBody,
} from './payloads.js';

const HOST = 'harbor.example.com';
const matcher = createHookMatcher({
  targets: [
    { runtime: 'langgraph', image: `${HOST}/molecule-ai/workspace-template-langgraph:latest` },
  ],
});
const REPO = 'molecule-ai/workspace-template-langgraph';

describe('bearerFormatOf', () => {
  it.each([
    [
      'a distribution envelope',
      JSON.parse(distributionEnvelope(distributionEvent({ repository: REPO, host: HOST }))),
      'distribution',
    ],
    ['an empty envelope', { events: [] }, 'distribution'],
    ['a Harbor Default payload', JSON.parse(harborWebhookBody()), 'harbor'],
    ['a Harbor CloudEvent', JSON.parse(harborCloudEventBody()), 'harbor-cloudevents'],
    ['type without event_data', { type: 'PUSH_ARTIFACT' }, 'harbor'],
    ['event_data without type', { event_data: {} }, 'harbor'],
    ['events beside type', { events: [], type: 'x' }, 'distribution'],
    ['an empty object', {}, 'distribution'],
    ['an array', [], 'distribution'],
    ['null', null, 'distribution'],
  ])('%s → %s', (_name, body, expected) => {
    expect(bearerFormatOf(body)).toBe(expected);
  });
});

describe('parseBearerDelivery', () => {
  it.each([
    [
      'distribution',
      distributionEnvelope(distributionEvent({ repository: REPO, tag: 'latest', host: HOST })),
      'distribution',
    ],
    ['Harbor Default', harborWebhookBody(), 'harbor'],
    ['Harbor CloudEvents', harborCloudEventBody(), 'harbor'],
  ])('%s: the push of latest is accepted, source %s', (_name, body, source) => {
    const delivery = parseBearerDelivery(JSON.parse(body), matcher);
    expect(delivery.source).toBe(source);
    expect(delivery.result).toMatchObject({
      ok: true,
      verdicts: [{ outcome: 'accepted', runtime: 'langgraph' }],
    });
  });

  it.each([
    [{ type: 'PUSH_ARTIFACT' }, 'harbor', /^not a Harbor webhook at event_data/],
    [{ specversion: '1.0' }, 'harbor', /^not a Harbor CloudEvent at type/],
    [{ hello: 'world' }, 'distribution', /^not a distribution envelope at events/],
  ])('%j is malformed, reported as %s', (body, source, message) => {
    const delivery = parseBearerDelivery(body, matcher);
    expect(delivery.source).toBe(source);
    expect(!delivery.result.ok && delivery.result.error).toMatch(message);
  });
});
