import { describe, expect, it } from 'vitest';
import { createDeadline, createSharedAbortController, sleep, withDeadline } from './deadline.js';

describe('createDeadline', () => {
  it('aborts after its time and says it timed out', async () => {
    const deadline = createDeadline(10);
    await sleep(30);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.timedOut).toBe(true);
    expect((deadline.signal.reason as Error).name).toBe('TimeoutError');
  });

  it('follows its parent, which is not a timeout', () => {
    const parent = new AbortController();
    const deadline = createDeadline(10_000, parent.signal);
    parent.abort(new Error('stop'));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.timedOut).toBe(false);
    expect((deadline.signal.reason as Error).message).toBe('stop');
    deadline.clear();
  });

  it('starts aborted under an aborted parent', () => {
    const parent = new AbortController();
    parent.abort();
    expect(createDeadline(10_000, parent.signal).signal.aborted).toBe(true);
  });

  it('clear() stops the timer and unhooks from the parent', async () => {
    const parent = new AbortController();
    const deadline = createDeadline(10, parent.signal);
    deadline.clear();
    parent.abort();
    await sleep(30);
    expect(deadline.signal.aborted).toBe(false);
  });
});

describe('withDeadline', () => {
  it('passes the result through and clears the deadline', async () => {
    let seen: AbortSignal | undefined;
    const value = await withDeadline(20, undefined, async ({ signal }) => {
      seen = signal;
      return 42;
    });
    expect(value).toBe(42);
    await sleep(40);
    expect(seen?.aborted).toBe(false);
  });
});

describe('sleep', () => {
  it('rejects with the reason when its signal aborts', async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(pending).rejects.toThrow('cancelled');
    await expect(sleep(1, controller.signal)).rejects.toThrow('cancelled');
  });
});

describe('createSharedAbortController', () => {
  it('takes many listeners without the leak warning, and still aborts them all', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const controller = createSharedAbortController();
      let aborted = 0;
      for (let n = 0; n < 50; n += 1)
        controller.signal.addEventListener('abort', () => (aborted += 1), { once: true });
      controller.abort();
      await new Promise((resolve) => setImmediate(resolve));
      expect(aborted).toBe(50);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
