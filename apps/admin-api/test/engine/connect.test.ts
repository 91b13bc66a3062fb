import { afterEach, describe, expect, it } from 'vitest';
import { chooseApiVersion, connectEngine, MAX_API_VERSION } from '../../src/engine/connect.js';
import { type FakeEngine, startFakeEngine } from '../helpers/fake-engine.js';

let engine: FakeEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('Engine API version negotiation', () => {
  it('picks min(engine, ours)', () => {
    expect(chooseApiVersion('1.41', '1.12')).toBe('1.41');
    expect(chooseApiVersion('1.52', '1.44')).toBe(MAX_API_VERSION);
    expect(chooseApiVersion('1.9', '1.9')).toBe('1.9');
    expect(chooseApiVersion('1.60', '1.50')).toBe('1.60');
  });

  it.each([
    ['1.41', '1.12', '1.41'],
    ['1.52', '1.44', MAX_API_VERSION],
  ])('engine %s (min %s) → requests on /v%s', async (api, min, expected) => {
    engine = await startFakeEngine();
    engine.apiVersion = api;
    engine.minApiVersion = min;
    const handle = await connectEngine({ kind: 'socket', socketPath: engine.socketPath });
    expect(handle.apiVersion).toBe(expected);
    await handle.docker.ping();
    const versions = engine.requests.map((r) => [r.path, r.version]);
    expect(versions).toEqual([
      ['/version', undefined],
      ['/_ping', expected],
    ]);
  });

  it('an engine that does not answer yet gets an unversioned client', async () => {
    engine = await startFakeEngine();
    const socketPath = engine.socketPath;
    engine.crash();
    const handle = await connectEngine({ kind: 'socket', socketPath }, { timeoutMs: 500 });
    expect(handle.apiVersion).toBeUndefined();
  });
});
