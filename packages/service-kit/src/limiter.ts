/** Runs a function under the limiter's bound. */
export type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

/** A counting semaphore: at most `limit` functions run at once, the rest wait in FIFO order. */
export function createLimiter(limit: number): Limiter {
  const max = Math.max(1, limit);
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
    if (next) next();
    else active -= 1;
  };
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await fn();
    } finally {
      release();
    }
  };
}

/**
 * `fn` over `items` with at most `limit` in flight; results keep the input order. A pool of
 * `limit` workers takes the items in turn, so only `limit` calls exist at any time (not one
 * pending promise per item: at 1,000 items that was most of a tick's live garbage).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  const workers = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker);
  await Promise.all(workers);
  return results;
}
