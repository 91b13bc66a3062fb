/**
 * The recreate step runtime by runtime against the fake engine: stops bounded across runtimes,
 * results merged and sorted, a failed listing confined to its runtime, and nothing touched
 * once shutdown cancels the refresh.
 */
import { memoryLogger } from '@molecule/service-kit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDocker } from '../../src/engine/connect.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import type { RefreshEvent } from '../../src/refresh/events.js';
import { createRecreateStep, type RecreateStepOptions } from '../../src/refresh/recreate-step.js';
import { type FakeEngine, newImageId, startFakeEngine } from '../helpers/fake-engine.js';

const image = (runtime: string) => `mirror.example.test/acme/workspace-template-${runtime}:latest`;

let engine: FakeEngine;
let metrics: Metrics;
let events: RefreshEvent[];
let cancel: AbortController;
beforeEach(async () => {
  engine = await startFakeEngine();
  metrics = createMetrics({ defaultMetrics: false });
  events = [];
  cancel = new AbortController();
});
afterEach(async () => {
  await engine.close();
});

function step(overrides: Partial<RecreateStepOptions> = {}) {
  return createRecreateStep({
    docker: createDocker({ kind: 'socket', socketPath: engine.socketPath }, '1.41'),
    stopGraceSeconds: () => 3,
    stopConcurrency: 32,
    inspectConcurrency: 8,
    signal: cancel.signal,
    metrics,
    logger: memoryLogger().logger,
    emit: (event) => events.push(event),
    ...overrides,
  });
}

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const recreatedCount = async (runtime: string) =>
  (await metrics.containersRecreated.get()).values.find((v) => v.labels.runtime === runtime)
    ?.value ?? 0;

describe('createRecreateStep', () => {
  it('bounds stops across runtimes; merges their results sorted, events and metrics per container', async () => {
    engine.stopDelayMs = 100;
    const codexId = newImageId();
    for (const name of ['ws-c3', 'ws-c1', 'ws-c2']) engine.addContainer(name, image('codex'));
    engine.addContainer('ws-c-current', image('codex'), codexId);
    for (const name of ['ws-h2', 'ws-h1']) engine.addContainer(name, image('hermes'));
    engine.addContainer('ws-langgraph', image('langgraph'));
    const recreate = step({ stopConcurrency: 3 });
    recreate.start('hermes', newImageId());
    recreate.start('codex', codexId);
    const result = await recreate.finish();
    expect(result).toEqual({
      recreated: ['ws-c1', 'ws-c2', 'ws-c3', 'ws-h1', 'ws-h2'],
      unchanged: ['ws-c-current'],
      errors: [],
      listFailure: undefined,
    });
    expect(engine.stats.maxActiveStops).toBe(3);
    expect(engine.requests.filter((r) => r.path === '/containers/json')).toHaveLength(2);
    expect(events.filter((e) => e.event === 'container-removed')).toHaveLength(5);
    expect(await recreatedCount('codex')).toBe(3);
    expect(await recreatedCount('hermes')).toBe(2);
    expect([...engine.containers.values()].map((c) => c.name).sort()).toEqual([
      'ws-c-current',
      'ws-langgraph',
    ]);
  });

  it('a failed listing leaves that runtime alone; the first failure is the refresh’s', async () => {
    engine.addContainer('ws-codex', image('codex'));
    engine.addContainer('ws-hermes', image('hermes'));
    engine.failContainerList = 500;
    const recreate = step();
    recreate.start('codex', newImageId());
    await waitFor(() => engine.requests.some((r) => r.path === '/containers/json'));
    await new Promise((r) => setTimeout(r, 50));
    engine.failContainerList = undefined;
    recreate.start('hermes', newImageId());
    const result = await recreate.finish();
    expect(result.recreated).toEqual(['ws-hermes']);
    expect(result.listFailure).toEqual({
      error: expect.stringContaining('listing ws-* containers failed'),
      unreachable: false,
    });
    expect(result.errors).toEqual([
      {
        stage: 'list',
        runtime: 'codex',
        code: 'ENGINE_ERROR',
        message: result.listFailure?.error,
      },
    ]);
    expect([...engine.containers.values()].map((c) => c.name)).toEqual(['ws-codex']);
  });

  it('touches no further container once the signal aborts', async () => {
    engine.stopDelayMs = 150;
    for (const name of ['ws-1', 'ws-2', 'ws-3']) engine.addContainer(name, image('codex'));
    const recreate = step({ stopConcurrency: 1 });
    recreate.start('codex', newImageId());
    await waitFor(() => engine.stats.activeStops === 1);
    cancel.abort();
    const result = await recreate.finish();
    expect(result.recreated).toHaveLength(1);
    expect(result.errors).toHaveLength(2);
    for (const error of result.errors) {
      expect(error).toMatchObject({ stage: 'stop', runtime: 'codex', code: 'SHUTTING_DOWN' });
    }
    expect(engine.containers.size).toBe(2);
    expect(engine.events.filter((e) => e.startsWith('stopped'))).toHaveLength(1);
    expect(events.filter((e) => e.event === 'container-failed')).toHaveLength(2);
  });
});
