/** Run `fn` over `items` with at most `limit` in flight; results keep the input order. */
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

/**
 * A FIFO mutex: tasks run one at a time in arrival order. `waiting` counts tasks queued
 * behind the running one, so callers can refuse work past a bound.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Tasks queued behind the running (or about to run) one. */
  get waiting(): number {
    return Math.max(0, this.pending - 1);
  }

  get busy(): boolean {
    return this.pending > 0;
  }

  run<R>(task: () => Promise<R>): Promise<R> {
    this.pending += 1;
    const result = this.tail.then(async () => {
      try {
        return await task();
      } finally {
        this.pending -= 1;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
