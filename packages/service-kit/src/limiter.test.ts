import { describe, expect, it } from 'vitest';
import { createLimiter, mapLimit } from './limiter.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createLimiter', () => {
  it('runs at most `limit` at once, in arrival order, and frees the slot on failure', async () => {
    const limit = createLimiter(2);
    let active = 0;
    let max = 0;
    const started: number[] = [];
    const task = (n: number, fail = false) =>
      limit(async () => {
        started.push(n);
        active += 1;
        max = Math.max(max, active);
        await sleep(5);
        active -= 1;
        if (fail) throw new Error(`task ${n}`);
        return n;
      });
    const results = await Promise.allSettled([task(1), task(2, true), task(3), task(4), task(5)]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(max).toBe(2);
    expect(started).toEqual([1, 2, 3, 4, 5]);
  });

  it('treats a limit below 1 as 1', async () => {
    const limit = createLimiter(0);
    let active = 0;
    let max = 0;
    await Promise.all(
      [1, 2, 3].map(() =>
        limit(async () => {
          active += 1;
          max = Math.max(max, active);
          await sleep(1);
          active -= 1;
        }),
      ),
    );
    expect(max).toBe(1);
  });
});

describe('mapLimit', () => {
  it('keeps order and bounds concurrency', async () => {
    let active = 0;
    let max = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      active += 1;
      max = Math.max(max, active);
      await sleep(n * 5);
      active -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(max).toBe(2);
  });
});
