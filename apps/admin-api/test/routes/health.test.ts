import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('health, readiness, metrics, openapi', () => {
  it('healthz answers without auth; readyz follows the engine', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
    });
    expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    h.engine.crash();
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('metrics count refreshes, pulls, recreated containers and requests', async () => {
    h.engine.addContainer('ws-1', h.image('codex'));
    h.engine.pulls.set(h.image('hermes'), { errorLine: 'boom' });
    await h.app.inject({
      method: 'POST',
      url: '/admin/workspace-images/refresh?runtime=codex',
      headers: h.auth,
    });
    await h.app.inject({
      method: 'POST',
      url: '/admin/workspace-images/refresh?runtime=hermes',
      headers: h.auth,
    });
    const response = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    expect(text).toContain('admin_api_refreshes_total{outcome="ok"} 1');
    expect(text).toContain('admin_api_refreshes_total{outcome="partial"} 1');
    expect(text).toContain('admin_api_pulls_total{runtime="codex",outcome="ok"} 1');
    expect(text).toContain('admin_api_pulls_total{runtime="hermes",outcome="failed"} 1');
    expect(text).toContain('admin_api_containers_recreated_total{runtime="codex"} 1');
    expect(text).toMatch(
      /admin_api_http_request_duration_seconds_count\{method="POST",route="\/admin\/workspace-images\/refresh",status_code="200"\} 2/,
    );
  });

  it('serves an OpenAPI description of the routes', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/admin/workspace-images',
      '/admin/workspace-images/refresh',
      '/healthz',
      '/metrics',
      '/readyz',
    ]);
    const params = doc.paths['/admin/workspace-images/refresh'].post.parameters;
    expect(params.map((p: { name: string }) => p.name).sort()).toEqual([
      'digest',
      'recreate',
      'runtime',
    ]);
  });

  it('unknown routes are 404 JSON', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'no route GET /nope', code: 'NOT_FOUND' });
  });
});
