import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TOKEN } from './helpers/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('lifecycle', () => {
  it('a client that disconnects does not leave the pull half-drained: the refresh completes', async () => {
    h.engine.pulls.set(h.image('codex'), { delayMs: 300 });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as AddressInfo;
    for (const accept of ['application/json', 'application/x-ndjson']) {
      h.engine.addContainer('ws-a', h.image('codex'));
      h.engine.events.length = 0;
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/admin/workspace-images/refresh?runtime=codex',
        headers: { authorization: `Bearer ${TOKEN}`, accept },
      });
      req.on('error', () => undefined);
      req.end();
      await new Promise((r) => setTimeout(r, 100));
      req.destroy();
      await waitFor(() => h.engine.events.includes('removed ws-a'));
      expect(h.engine.events[0]).toBe(`pulled ${h.image('codex')}`);
    }
    await waitFor(() => h.logs.filter((l) => l.includes('refresh finished')).length === 2);
  });

  it('close() lets the in-flight refresh finish and answers it, then refuses new work', async () => {
    h.engine.pulls.set(h.image('codex'), { delayMs: 300 });
    const inflight = h.app.inject({
      method: 'POST',
      url: '/admin/workspace-images/refresh?runtime=codex&recreate=false',
      headers: h.auth,
    });
    await new Promise((r) => setTimeout(r, 50));
    const closing = h.app.close();
    const response = await inflight;
    await closing;
    expect(response.statusCode).toBe(200);
    expect(response.json().pulled).toEqual(['codex']);
    await expect(
      h.app.refreshService.refresh({ runtimes: ['codex'], recreate: false }),
    ).rejects.toMatchObject({ code: 'SHUTTING_DOWN', statusCode: 503 });
  });

  it('close() aborts a pull that outlives the shutdown timeout', async () => {
    h.engine.pulls.set(h.image('codex'), { hang: true });
    const inflight = h.app.inject({
      method: 'POST',
      url: '/admin/workspace-images/refresh?runtime=codex',
      headers: h.auth,
    });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await h.app.close();
    const response = await inflight;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(response.json()).toMatchObject({ pulled: [], failed: ['codex'] });
  });
});
