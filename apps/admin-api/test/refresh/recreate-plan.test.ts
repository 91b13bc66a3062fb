import type { Runtime } from '@molecule/registry';
import { describe, expect, it } from 'vitest';
import type { InspectedContainer } from '../../src/engine/containers.js';
import { planRecreate } from '../../src/refresh/recreate-plan.js';

const container = (
  name: string,
  configuredImage: string,
  imageId: string,
  running = true,
): InspectedContainer => ({ id: `id-${name}`, name, configuredImage, imageId, running });

const pulled = (entries: Array<[Runtime, string]>) => new Map<Runtime, string>(entries);

describe('planRecreate', () => {
  it('recreates a container of a pulled runtime that is not on the pulled image', () => {
    const plan = planRecreate(
      [container('ws-a', 'ghcr.io/molecule-ai/workspace-template-codex:latest', 'sha256:old')],
      pulled([['codex', 'sha256:new']]),
    );
    expect(plan).toEqual({
      targets: [{ id: 'id-ws-a', name: 'ws-a', runtime: 'codex', running: true }],
      current: [],
    });
  });

  it('leaves a container already on the pulled image, naming it as current', () => {
    const plan = planRecreate(
      [container('ws-a', 'localhost:5000/acme/workspace-template-codex:latest', 'sha256:new')],
      pulled([['codex', 'sha256:new']]),
    );
    expect(plan).toEqual({ targets: [], current: ['ws-a'] });
  });

  it('matches by the template name in any registry, prefix, tag or digest form', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const plan = planRecreate(
      [
        container('ws-old-registry', 'ghcr.io/molecule-ai/workspace-template-hermes:latest', 'i1'),
        container('ws-mirror', '[::1]:5000/a/b/workspace-template-hermes:v2', 'i2'),
        container('ws-pinned', `registry.example.com/workspace-template-hermes@${digest}`, 'i3'),
      ],
      pulled([['hermes', 'sha256:new']]),
    );
    expect(plan.targets.map((t) => t.name)).toEqual(['ws-old-registry', 'ws-mirror', 'ws-pinned']);
    expect(plan.targets.every((t) => t.runtime === 'hermes')).toBe(true);
  });

  it('leaves containers of runtimes not pulled (or failed) and of other images untouched', () => {
    const plan = planRecreate(
      [
        container('ws-codex', 'ghcr.io/molecule-ai/workspace-template-codex:latest', 'old'),
        container('ws-other', 'ghcr.io/molecule-ai/postgres:16', 'old'),
        container('ws-prefixed', 'ghcr.io/molecule-ai/my-workspace-template-hermes', 'old'),
        container('ws-hermes', 'ghcr.io/molecule-ai/workspace-template-hermes:latest', 'old'),
      ],
      pulled([['hermes', 'new']]),
    );
    expect(plan).toEqual({
      targets: [{ id: 'id-ws-hermes', name: 'ws-hermes', runtime: 'hermes', running: true }],
      current: [],
    });
  });

  it('keeps whether the engine said the container runs, and the order of the containers', () => {
    const plan = planRecreate(
      [
        container('ws-b', 'ghcr.io/molecule-ai/workspace-template-codex', 'old', false),
        container('ws-a', 'ghcr.io/molecule-ai/workspace-template-crewai', 'old', true),
        container('ws-c', 'ghcr.io/molecule-ai/workspace-template-codex', 'new-codex', false),
      ],
      pulled([
        ['codex', 'new-codex'],
        ['crewai', 'new-crewai'],
      ]),
    );
    expect(plan).toEqual({
      targets: [
        { id: 'id-ws-b', name: 'ws-b', runtime: 'codex', running: false },
        { id: 'id-ws-a', name: 'ws-a', runtime: 'crewai', running: true },
      ],
      current: ['ws-c'],
    });
  });
});
