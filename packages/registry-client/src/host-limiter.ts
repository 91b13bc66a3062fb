/**
 * At most `max` operations in flight per key (a registry origin); the rest queue in order.
 * A queued caller whose signal aborts leaves the queue.
 */
export interface HostLimiter {
  run<T>(key: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export function createHostLimiter(max: number): HostLimiter {
  const slots = new Map<string, { active: number; queue: Array<() => void> }>();

  function acquire(key: string, signal?: AbortSignal): Promise<void> {
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = { active: 0, queue: [] };
      slots.set(key, slot);
    }
    if (slot.active < max) {
      slot.active++;
      return Promise.resolve();
    }
    const queue = slot.queue;
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const index = queue.indexOf(grant);
        if (index !== -1) queue.splice(index, 1);
        reject(signal?.reason);
      };
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
    });
  }

  function release(key: string): void {
    const slot = slots.get(key);
    if (slot === undefined) return;
    const next = slot.queue.shift();
    if (next !== undefined) {
      next(); // the slot passes straight to the next caller
      return;
    }
    slot.active--;
    if (slot.active === 0) slots.delete(key);
  }

  return {
    async run(key, task, signal) {
      await acquire(key, signal);
      try {
        return await task();
      } finally {
        release(key);
      }
    },
  };
}
