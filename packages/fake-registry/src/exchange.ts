import type { IncomingMessage, ServerResponse } from 'node:http';
import { sha256Digest } from './digest.js';
import type { FaultTable } from './faults.js';
import type { Fault, RecordedRequest } from './types.js';

export type Sleep = (ms: number) => Promise<void>;

/** Distribution's error body, https://distribution.github.io/distribution/spec/api/#errors */
export function errorBody(code: string, message: string, detail?: unknown): Buffer {
  const error = detail === undefined ? { code, message } : { code, message, detail };
  return Buffer.from(JSON.stringify({ errors: [error] }));
}

const PADDING_CHUNK = Buffer.alloc(64 * 1024, ' ');

/** One request/response pair: writes responses, applies response faults, records the status. */
export class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly record: RecordedRequest;
  readonly #faults: FaultTable;
  readonly #sleep: Sleep;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    faults: FaultTable,
    sleep: Sleep,
  ) {
    this.req = req;
    this.res = res;
    this.record = record;
    this.#faults = faults;
    this.#sleep = sleep;
  }

  /**
   * Sends a response. A successful one may be altered by a response fault (digest header
   * left out or wrong, body padded, no Content-Length).
   */
  async send(
    status: number,
    headers: Record<string, string>,
    body: Buffer = Buffer.alloc(0),
    digest?: string,
  ): Promise<void> {
    const fault =
      status >= 200 && status < 300
        ? this.#faults.take('response', {
            method: this.record.method,
            kind: this.record.kind,
            path: this.record.path,
          })
        : undefined;
    if (fault?.delayMs) await this.#sleep(fault.delayMs);
    const out: Record<string, string> = { ...headers };
    if (digest !== undefined && !fault?.omitDigestHeader) {
      out['Docker-Content-Digest'] = fault?.wrongDigest
        ? sha256Digest(Buffer.concat([body, Buffer.from('\nwrong')]))
        : digest;
    }
    const padding = Math.max(0, (fault?.oversizedBodyBytes ?? 0) - body.length);
    if (!fault?.omitContentLength) out['Content-Length'] = String(body.length + padding);
    this.record.status = status;
    if (this.res.destroyed) return;
    this.res.writeHead(status, out);
    if (this.req.method === 'HEAD') {
      this.res.end();
      return;
    }
    await this.#writeBody(body, padding);
  }

  sendJson(status: number, value: unknown, headers: Record<string, string> = {}): Promise<void> {
    return this.send(
      status,
      { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      Buffer.from(JSON.stringify(value)),
    );
  }

  sendError(
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
    detail?: unknown,
  ): Promise<void> {
    return this.send(
      status,
      { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      errorBody(code, message, detail),
    );
  }

  /** The response an arrival fault with a `status` asks for. */
  sendFault(fault: Fault & { status: number }, headers: Record<string, string>): Promise<void> {
    const out = { ...headers };
    if (fault.retryAfter !== undefined) out['Retry-After'] = fault.retryAfter;
    const [code, message] = faultError(fault.status, this.record.kind);
    return this.sendError(fault.status, code, message, out);
  }

  /** Drops the connection without an answer. */
  reset(): void {
    this.record.status = 0;
    this.req.socket.destroy();
  }

  async #writeBody(body: Buffer, padding: number): Promise<void> {
    const { res } = this;
    let pending = padding;
    let ok = res.write(body);
    while (pending > 0 && !res.destroyed) {
      if (!ok) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
        if (res.destroyed) return;
      }
      const size = Math.min(pending, PADDING_CHUNK.length);
      ok = res.write(PADDING_CHUNK.subarray(0, size));
      pending -= size;
    }
    res.end();
  }
}

function faultError(status: number, kind: RecordedRequest['kind']): [string, string] {
  if (status === 401) return ['UNAUTHORIZED', 'authentication required'];
  if (status === 403) return ['DENIED', 'requested access to the resource is denied'];
  if (status === 404 && kind === 'manifest') return ['MANIFEST_UNKNOWN', 'manifest unknown'];
  if (status === 404 && kind === 'blob') return ['BLOB_UNKNOWN', 'blob unknown to registry'];
  if (status === 404) return ['NAME_UNKNOWN', 'repository name not known to registry'];
  if (status === 429) return ['TOOMANYREQUESTS', 'too many requests'];
  if (status >= 500) return ['UNAVAILABLE', 'service unavailable'];
  return ['UNKNOWN', 'injected fault'];
}
