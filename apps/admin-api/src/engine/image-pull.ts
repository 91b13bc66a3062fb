import type { Readable } from 'node:stream';
import { parseImageReference } from '@molecule/registry';
import type Docker from 'dockerode';
import { describeEngineError, engineStatusOf, isEngineUnreachable } from './engine-errors.js';

/** What a pull reports while it runs, summarised from the engine's progress lines. */
export interface PullProgress {
  readonly layersDone: number;
  readonly layersTotal: number;
  /** Bytes downloaded / to download, over the layers the engine gave sizes for. */
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** `PULL_ABORTED`: our own signal (service shutdown) cut the pull short. */
export type PullFailureCode =
  | 'PULL_FAILED'
  | 'PULL_TIMEOUT'
  | 'PULL_ABORTED'
  | 'ENGINE_UNAVAILABLE';

export type PullOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: PullFailureCode;
      readonly message: string;
      readonly status: number | undefined;
    };

export interface PullOptions {
  /** Full reference, e.g. `registry.example.com/molecule-ai/workspace-template-codex:latest`. */
  readonly image: string;
  /** The `X-Registry-Auth` value, or undefined for an anonymous pull. */
  readonly registryAuth: string | undefined;
  /** `''` → the engine's default. */
  readonly platform: string;
  readonly timeoutMs: number;
  readonly onProgress?: (progress: PullProgress) => void;
  /** Minimum ms between two byte-only progress reports (layer changes always report). */
  readonly progressIntervalMs?: number;
  /** Aborts the pull (service shutdown); reported as `PULL_ABORTED`. */
  readonly signal?: AbortSignal;
}

/** One line of `POST /images/create` output (https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageCreate). */
interface PullLine {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

const MAX_LINE_BYTES = 1 << 20;

/**
 * `fromImage` and `tag` of `POST /images/create` for a reference: the repository and the tag,
 * or the whole `repository@digest` (the engine then pulls exactly that manifest).
 */
export function pullParameters(image: string): { fromImage: string; tag: string | undefined } {
  const reference = parseImageReference(image);
  const repository = `${reference.domain}/${reference.path}`;
  if (reference.digest !== undefined)
    return { fromImage: `${repository}@${reference.digest}`, tag: undefined };
  return { fromImage: repository, tag: reference.tag ?? 'latest' };
}

class LayerTracker {
  private readonly layers = new Map<string, { done: boolean; current: number; total: number }>();

  update(line: PullLine): boolean {
    const id = line.id;
    const status = line.status ?? '';
    if (!id || id.length < 8 || status.startsWith('Pulling from')) return false;
    let layer = this.layers.get(id);
    const isNew = layer === undefined;
    if (!layer) {
      layer = { done: false, current: 0, total: 0 };
      this.layers.set(id, layer);
    }
    const wasDone = layer.done;
    if (status === 'Pull complete' || status === 'Already exists') layer.done = true;
    if (status === 'Downloading' && line.progressDetail) {
      layer.current = line.progressDetail.current ?? layer.current;
      layer.total = line.progressDetail.total ?? layer.total;
    }
    if (status === 'Download complete' && layer.total > 0) layer.current = layer.total;
    return isNew || wasDone !== layer.done;
  }

  snapshot(): PullProgress {
    let layersDone = 0;
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const layer of this.layers.values()) {
      if (layer.done) layersDone += 1;
      bytesTotal += layer.total;
      bytesDone += layer.done ? layer.total : layer.current;
    }
    return { layersDone, layersTotal: this.layers.size, bytesDone, bytesTotal };
  }
}

/**
 * Pull one image through the engine and drain the progress stream to its end. A pull is a
 * success only when the engine accepted it (HTTP 200) and no line carried `error` or
 * `errorDetail`; the whole pull is bounded by `timeoutMs` (a stalled blob can otherwise
 * hang it for minutes). Never throws: failures are values.
 */
export async function pullImage(docker: Docker, options: PullOptions): Promise<PullOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  timer.unref();
  const onAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const { fromImage, tag } = pullParameters(options.image);
  const query: Record<string, unknown> = { fromImage, abortSignal: controller.signal };
  if (tag !== undefined) query.tag = tag;
  if (options.platform !== '') query.platform = options.platform;
  const timeoutOutcome = (): PullOutcome => ({
    ok: false,
    code: 'PULL_TIMEOUT',
    message: `pull of ${options.image} did not finish within ${options.timeoutMs} ms`,
    status: undefined,
  });
  const abortedOutcome = (): PullOutcome => ({
    ok: false,
    code: 'PULL_ABORTED',
    message: `pull of ${options.image} aborted: the service is shutting down`,
    status: undefined,
  });
  const engineFailure = (
    error: unknown,
    what: 'refused' | 'interrupted',
    status: number | undefined,
  ): PullOutcome => ({
    ok: false,
    code: isEngineUnreachable(error) ? 'ENGINE_UNAVAILABLE' : 'PULL_FAILED',
    message: `pull of ${options.image} ${what}: ${describeEngineError(error)}`,
    status,
  });
  /** Our own timeout or signal, before anything the engine said. */
  const cutShort = (): PullOutcome | undefined =>
    timedOut ? timeoutOutcome() : options.signal?.aborted ? abortedOutcome() : undefined;

  try {
    let stream: Readable;
    try {
      stream = (await docker.createImage(
        options.registryAuth === undefined ? undefined : { key: options.registryAuth },
        query,
      )) as Readable;
    } catch (error) {
      return cutShort() ?? engineFailure(error, 'refused', engineStatusOf(error));
    }

    const tracker = new LayerTracker();
    const interval = options.progressIntervalMs ?? 250;
    let lastReport = 0;
    let streamError: string | undefined;
    let finalStatus = false;
    let buffer = '';

    const handleLine = (text: string): void => {
      if (text.trim() === '') return;
      let line: PullLine;
      try {
        line = JSON.parse(text) as PullLine;
      } catch {
        return; // not JSON: ignore, the stream's end decides
      }
      if (line.error !== undefined || line.errorDetail !== undefined) {
        streamError ??= line.errorDetail?.message ?? line.error ?? 'pull failed';
        return;
      }
      if ((line.status ?? '').startsWith('Status: ')) finalStatus = true;
      const changed = tracker.update(line);
      const now = Date.now();
      if (options.onProgress && (changed || now - lastReport >= interval)) {
        lastReport = now;
        options.onProgress(tracker.snapshot());
      }
    };

    try {
      for await (const chunk of stream) {
        buffer += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
        let newline = buffer.indexOf('\n');
        while (newline !== -1) {
          handleLine(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
        }
        if (buffer.length > MAX_LINE_BYTES) {
          stream.destroy();
          return {
            ok: false,
            code: 'PULL_FAILED',
            message: `pull of ${options.image}: engine sent a line over ${MAX_LINE_BYTES} bytes`,
            status: undefined,
          };
        }
      }
      handleLine(buffer);
    } catch (error) {
      return cutShort() ?? engineFailure(error, 'interrupted', undefined);
    }
    const own = cutShort();
    if (own !== undefined) return own;
    if (streamError !== undefined) {
      return {
        ok: false,
        code: 'PULL_FAILED',
        message: `pull of ${options.image} failed: ${streamError}`,
        status: undefined,
      };
    }
    if (!finalStatus) {
      // The engine ends every finished pull with `Status: ...`; a stream cut short without
      // it (engine restarted, socket closed) is not a pull we can report as done.
      return {
        ok: false,
        code: 'PULL_FAILED',
        message: `pull of ${options.image} ended without the engine's final status`,
        status: undefined,
      };
    }
    if (options.onProgress) options.onProgress(tracker.snapshot());
    return { ok: true };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
