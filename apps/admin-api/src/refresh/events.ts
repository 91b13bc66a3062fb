import type { Runtime } from '@molecule/registry';
import type { RefreshStage } from './result.js';

/** One NDJSON line of a streamed refresh. */
export type RefreshEvent =
  | { event: 'queued'; waiting: number }
  /** This request joined an identical one that was already waiting: one result for both. */
  | { event: 'joined' }
  | { event: 'started'; runtimes: Runtime[]; recreate: boolean; digest?: string }
  | ({ event: 'pull-progress'; runtime: Runtime } & PullProgressBody)
  | { event: 'pulled'; runtime: Runtime; image_id: string; digest: string | null }
  | { event: 'pull-failed'; runtime: Runtime; code: string; error: string }
  | { event: 'container-removed'; container: string; runtime: Runtime }
  | { event: 'container-failed'; container: string; stage: RefreshStage; error: string };

interface PullProgressBody {
  layers_done: number;
  layers_total: number;
  bytes_done: number;
  bytes_total: number;
}

export type EmitRefreshEvent = (event: RefreshEvent) => void;

/** Wraps a listener so that its failure (e.g. a gone client) never disturbs the refresh. */
export function createEmitter(onEvent: EmitRefreshEvent | undefined): EmitRefreshEvent {
  return (event) => {
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch {
      // deliberately ignored: the refresh outlives its listener
    }
  };
}
