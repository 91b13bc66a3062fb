/**
 * Refreshes run one at a time, in arrival order (they never interleave: each gets its own
 * complete result). Two rules keep the queue from filling with stale work:
 *
 * - a request equal to one that is already waiting (same key) joins it: both callers get the
 *   same result, and the engine does the work once;
 * - a waiting job whose every caller has gone (their signals aborted) is dropped unstarted.
 *   A running job is not stopped when its callers go: its pulls are already in the engine,
 *   and cutting it between pull and removal would leave the runtime half refreshed; a caller
 *   that comes back finds it done, or waiting behind it.
 */
export class QueueClosedError extends Error {
  override name = 'QueueClosedError';
}

export class CallersGoneError extends Error {
  override name = 'CallersGoneError';
}

interface Job<R> {
  readonly key: string;
  readonly run: () => Promise<R>;
  readonly callers: Set<AbortSignal | undefined>;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
  readonly promise: Promise<R>;
}

export class RefreshQueue<R> {
  private readonly waitingJobs: Job<R>[] = [];
  private running: Job<R> | undefined;
  private idleWaiters: Array<() => void> = [];

  /** Jobs waiting behind the running one (joined requests count once). */
  get waiting(): number {
    return this.waitingJobs.length;
  }

  get busy(): boolean {
    return this.running !== undefined || this.waitingJobs.length > 0;
  }

  /**
   * Joins the waiting job with the same `key`: its result, or `undefined` when none waits.
   * `caller` aborts when the caller has gone.
   */
  join(key: string, caller?: AbortSignal): Promise<R> | undefined {
    const existing = this.waitingJobs.find((job) => job.key === key);
    if (existing === undefined) return undefined;
    this.addCaller(existing, caller);
    return existing.promise;
  }

  /**
   * Runs `run` after the jobs before it, or joins the waiting job with the same `key`.
   * `caller` aborts when the caller has gone.
   */
  enqueue(key: string, run: () => Promise<R>, caller?: AbortSignal): Promise<R> {
    const joined = this.join(key, caller);
    if (joined !== undefined) return joined;
    let resolve!: (value: R) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const job: Job<R> = { key, run, callers: new Set(), resolve, reject, promise };
    this.addCaller(job, caller);
    this.waitingJobs.push(job);
    this.startNext();
    return promise;
  }

  /** Rejects every waiting job with `error`; the running one goes on. */
  rejectWaiting(error: Error): void {
    for (const job of this.waitingJobs.splice(0)) job.reject(error);
    this.notifyIdle();
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private addCaller(job: Job<R>, caller: AbortSignal | undefined): void {
    job.callers.add(caller);
    if (caller === undefined) return;
    const onGone = () => {
      job.callers.delete(caller);
      const index = this.waitingJobs.indexOf(job);
      if (job.callers.size === 0 && index !== -1) {
        this.waitingJobs.splice(index, 1);
        job.reject(new CallersGoneError('every caller of this refresh has gone'));
        this.notifyIdle();
      }
    };
    if (caller.aborted) onGone();
    else caller.addEventListener('abort', onGone, { once: true });
  }

  private startNext(): void {
    if (this.running !== undefined) return;
    const job = this.waitingJobs.shift();
    if (job === undefined) {
      this.notifyIdle();
      return;
    }
    this.running = job;
    // A job that throws at once (before returning a promise) rejects like any other.
    new Promise<R>((resolve) => resolve(job.run())).then(job.resolve, job.reject).finally(() => {
      this.running = undefined;
      this.startNext();
    });
  }

  private notifyIdle(): void {
    if (this.busy) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
