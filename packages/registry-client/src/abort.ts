import { RegistryError } from './errors.js';

/** Waits for `promise` but gives up when `signal` aborts (the promise itself keeps going). */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Runs `task` with a signal that also fires after `timeoutMs`; our own timeout becomes a
 * `TIMEOUT` RegistryError, while the caller's abort reason passes through unchanged.
 *
 * A plain controller and a timer cleared on settle, rather than `AbortSignal.timeout` and
 * `AbortSignal.any`: those keep every signal (and what it references) alive until the
 * timeout fires, which at 1,000 checks a tick held tens of MB for nothing.
 */
export async function withTimeout<T>(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  describe: { method: string; target: string; host: string },
  task: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  // Made only when the timer fires: an exception per call (with its stack) is garbage a
  // steady tick of 1,000 checks does not need.
  let timeoutReason: DOMException | undefined;
  const timer = setTimeout(() => {
    timeoutReason = new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError');
    controller.abort(timeoutReason);
  }, timeoutMs);
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    return await task(controller.signal);
  } catch (error) {
    if (timeoutReason !== undefined && error === timeoutReason && !callerSignal?.aborted) {
      throw new RegistryError({
        code: 'TIMEOUT',
        method: describe.method,
        target: describe.target,
        host: describe.host,
        hint: `no answer within ${timeoutMs} ms; check that ${describe.host} is reachable`,
        cause: error,
      });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', onCallerAbort);
  }
}
