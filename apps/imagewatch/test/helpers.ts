import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger as kitMemoryLogger } from '@molecule/service-kit/testing';

/** A JSON logger writing into memory, so tests can read (and search for secrets in) the logs. */
export function memoryLogger(level = 'debug') {
  return kitMemoryLogger({ service: 'imagewatch', level });
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'imagewatch-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A distinct, well-formed digest per number: sha(101) = sha256:00650065… */
export function sha(n: number): string {
  return `sha256:${n.toString(16).padStart(4, '0').repeat(16)}`;
}

export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5_000,
  stepMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** Resolves once no rollout in `store` is running (each is done, halted or otherwise over). */
export async function rolloutsSettled(
  store: { activeRollouts(): Promise<ReadonlyArray<{ state: string }>> },
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    async () => (await store.activeRollouts()).every((r) => r.state !== 'running'),
    timeoutMs,
  );
}

/**
 * Resolves once no check triggered by a registry hook is scheduled or running (the
 * `imagewatch_hook_checks_pending` gauge is 0). A hook's 202 is sent after its check was
 * scheduled, so awaiting this right after the answer waits for that check.
 */
export async function hooksSettled(
  metrics: { hookChecksPending: { get(): Promise<{ values: Array<{ value: number }> }> } },
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { values } = await metrics.hookChecksPending.get();
    if ((values[0]?.value ?? 0) === 0) return;
    if (Date.now() > deadline) throw new Error(`hook checks still pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
