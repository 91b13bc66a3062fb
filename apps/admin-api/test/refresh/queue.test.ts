import { describe, expect, it } from 'vitest';
import { CallersGoneError, RefreshQueue } from '../../src/refresh/queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RefreshQueue', () => {
  it('runs one job at a time, in order, and survives failures', async () => {
    const queue = new RefreshQueue<string>();
    const log: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await sleep(10);
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.enqueue('a', task('a')),
      queue.enqueue('b', task('b', true)),
      queue.enqueue('c', task('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(queue.busy).toBe(false);
  });

  it('joins a request equal to a waiting one: one run, the same result for both', async () => {
    const queue = new RefreshQueue<string>();
    let runs = 0;
    const slow = queue.enqueue('x', async () => {
      await sleep(30);
      return 'first';
    });
    const job = async () => {
      runs += 1;
      return `run ${runs}`;
    };
    const a = queue.enqueue('k', job);
    const b = queue.enqueue('k', job);
    expect(queue.waiting).toBe(1);
    expect(await Promise.all([slow, a, b])).toEqual(['first', 'run 1', 'run 1']);
    expect(runs).toBe(1);
    // A running job is not joined: an equal request after it started runs again.
    const c = queue.enqueue('k', job);
    const d = queue.enqueue('k', job);
    const e = queue.enqueue('k', job);
    expect(await Promise.all([c, d, e])).toEqual(['run 2', 'run 3', 'run 3']);
  });

  it('drops a waiting job once every caller has gone, and keeps it while one remains', async () => {
    const queue = new RefreshQueue<string>();
    let release!: () => void;
    const running = queue.enqueue('x', () => new Promise<string>((r) => (release = () => r('x'))));
    let ran = false;
    const first = new AbortController();
    const second = new AbortController();
    const job = async () => {
      ran = true;
      return 'k';
    };
    const a = queue.enqueue('k', job, first.signal);
    const b = queue.enqueue('k', job, second.signal);
    first.abort();
    expect(queue.waiting).toBe(1);
    second.abort();
    expect(queue.waiting).toBe(0);
    await expect(a).rejects.toBeInstanceOf(CallersGoneError);
    await expect(b).rejects.toBeInstanceOf(CallersGoneError);
    release();
    expect(await running).toBe('x');
    await queue.idle();
    expect(ran).toBe(false);
  });

  it('rejectWaiting answers every waiting job, the running one goes on; idle() waits for it', async () => {
    const queue = new RefreshQueue<string>();
    const running = queue.enqueue('x', async () => {
      await sleep(30);
      return 'done';
    });
    const waiting = queue.enqueue('y', async () => 'never');
    queue.rejectWaiting(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    let idle = false;
    const idled = queue.idle().then(() => {
      idle = true;
    });
    expect(idle).toBe(false);
    expect(await running).toBe('done');
    await idled;
    expect(idle).toBe(true);
  });
});

describe('RefreshQueue with a job that throws at once', () => {
  it('rejects that job and runs the next', async () => {
    const queue = new RefreshQueue<string>();
    const bad = queue.enqueue('a', () => {
      throw new Error('refused before starting');
    });
    const good = queue.enqueue('b', async () => 'ok');
    await expect(bad).rejects.toThrow('refused before starting');
    expect(await good).toBe('ok');
  });
});
