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
 */
export async function withTimeout<T>(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  describe: { method: string; target: string; host: string },
  task: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
  try {
    return await task(signal);
  } catch (error) {
    if (timeout.aborted && !callerSignal?.aborted && error === timeout.reason) {
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
  }
}
