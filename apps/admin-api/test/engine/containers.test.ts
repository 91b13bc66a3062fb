import { describe, expect, it } from 'vitest';
import { type ListedContainer, resolveFromListing } from '../../src/engine/containers.js';

const ID = `sha256:${'a'.repeat(64)}`;
const OTHER_ID = `sha256:${'b'.repeat(64)}`;
const REF = 'registry.example.test:5000/mirror/molecule/workspace-template-codex:latest';

const listed = (overrides: Partial<ListedContainer>): ListedContainer => ({
  id: 'c1',
  name: 'ws-1',
  listedImage: REF,
  imageId: ID,
  state: 'running',
  ...overrides,
});

describe('resolveFromListing', () => {
  it('a listed reference is Config.Image, and ImageID the image it runs: no inspect needed', () => {
    expect(resolveFromListing(listed({}))).toEqual({
      id: 'c1',
      name: 'ws-1',
      configuredImage: REF,
      imageId: ID,
      running: true,
    });
    const pinned = `${REF.replace(/:latest$/, '')}@sha256:${'c'.repeat(64)}`;
    expect(resolveFromListing(listed({ listedImage: pinned }))?.configuredImage).toBe(pinned);
  });

  it.each([
    ['the tag moved: the listing shows the image id', { listedImage: ID }],
    ['another image id', { listedImage: OTHER_ID }],
    ['an id without the algorithm', { listedImage: 'a'.repeat(64) }],
    ['no ImageID from the engine', { imageId: '' }],
    ['no Image from the engine', { listedImage: '' }],
    ['Image and ImageID the same, even in no id form', { listedImage: 'local', imageId: 'local' }],
  ])('%s: inspect it', (_case, overrides) => {
    expect(resolveFromListing(listed(overrides))).toBeUndefined();
  });

  it('a reference that merely starts like an image id is a reference', () => {
    const lookalike = `${'a'.repeat(64)}-app:latest`;
    expect(resolveFromListing(listed({ listedImage: lookalike }))?.configuredImage).toBe(lookalike);
  });

  it.each([
    ['exited', false],
    ['created', false],
    ['dead', false],
    ['running', true],
    ['paused', true],
    ['restarting', true],
    ['removing', true],
    ['', true],
  ])('state %j → running %s', (state, running) => {
    expect(resolveFromListing(listed({ state }))?.running).toBe(running);
  });
});
