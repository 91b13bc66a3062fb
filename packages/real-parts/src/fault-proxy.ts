import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { RealPartsError } from './errors.js';

/**
 * What the proxy does with a request:
 * - `pass`: forward it to the upstream and stream the answer back, unchanged.
 * - `status-503`: answer 503 with a registry-style JSON error.
 * - `reset`: drop the connection with a TCP RST, no answer.
 * - `hang`: never answer, until the client gives up or the proxy closes.
 * - `rate-limit`: answer 429 with `Retry-After: <retryAfterSeconds>`.
 * - `html`: answer 200 `text/html` with a login page, for any path (what a captive portal
 *   or an SSO gateway in the way looks like); HEAD gets the headers only.
 * - `slow`: forward after `slowMs`.
 */
export type FaultMode = 'pass' | 'status-503' | 'reset' | 'hang' | 'rate-limit' | 'html' | 'slow';

export const FAULT_MODES: readonly FaultMode[] = [
  'pass',
  'status-503',
  'reset',
  'hang',
  'rate-limit',
  'html',
  'slow',
];

/** One step of a schedule: `mode` for `ms` milliseconds. */
export interface FaultStep {
  mode: FaultMode;
  ms: number;
}

export interface FaultProxyOptions {
  /** Base URL of the upstream, e.g. the registry's `http://127.0.0.1:41234`. */
  upstream: string;
  /** Mode while no schedule runs and setMode was not called; default 'pass'. */
  mode?: FaultMode;
  /** Modes cycled over time from the start, e.g. 5 s pass then 2 s of 503, again and again. */
  schedule?: readonly FaultStep[];
  /** `Retry-After` of 'rate-limit', in seconds; default 1. */
  retryAfterSeconds?: number;
  /** Delay of 'slow' before forwarding; default 2000 ms. */
  slowMs?: number;
  /** Clock for the schedule (ms); default Date.now. */
  now?: () => number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, e.g. for image references and `--insecure-registry`. */
  host: string;
  /** The mode a request arriving now gets. */
  readonly mode: FaultMode;
  /** Override the schedule (or the start mode) until resumeSchedule(). */
  setMode(mode: FaultMode): void;
  /** Drop the setMode override: back to the schedule, or to the start mode. */
  resumeSchedule(): void;
  /** Requests seen, by the mode they got. */
  readonly requests: Readonly<Record<FaultMode, number>>;
  /** Stop listening and end every connection, hanging ones included. */
  close(): Promise<void>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own hop; Expect is answered by node. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

const LOGIN_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in to continue</h1>
<form method="post" action="/login">
<label>User <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`;

/** A flat raw header list (`[name, value, ...]`) without the hop-by-hop headers. */
function endToEndHeaders(raw: readonly string[]): string[] {
  const named = new Set(HOP_BY_HOP);
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === 'connection') {
      for (const token of (raw[i + 1] ?? '').split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!named.has(name.toLowerCase())) kept.push(name, raw[i + 1] ?? '');
  }
  return kept;
}

/** distribution's error body shape: https://distribution.github.io/distribution/spec/api/#errors */
function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({
    errors: [{ code, message: `fault proxy: ${status}`, detail: {} }],
  });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function parseUpstream(upstream: string): URL {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch (error) {
    throw new RealPartsError('INVALID_OPTIONS', `fault proxy upstream ${upstream} is not a URL`, {
      cause: error,
    });
  }
  if (url.protocol !== 'http:') {
    throw new RealPartsError(
      'INVALID_OPTIONS',
      `fault proxy upstream ${upstream}: only http:// is supported`,
    );
  }
  return url;
}

function checkMode(mode: FaultMode): FaultMode {
  if (!FAULT_MODES.includes(mode)) {
    throw new RealPartsError(
      'INVALID_OPTIONS',
      `unknown fault mode ${String(mode)} (expected one of ${FAULT_MODES.join(', ')})`,
    );
  }
  return mode;
}

function checkSchedule(schedule: readonly FaultStep[]): readonly FaultStep[] {
  if (schedule.length === 0) {
    throw new RealPartsError('INVALID_OPTIONS', 'fault proxy schedule is empty');
  }
  for (const step of schedule) {
    checkMode(step.mode);
    if (!Number.isFinite(step.ms) || step.ms <= 0) {
      throw new RealPartsError(
        'INVALID_OPTIONS',
        `fault proxy schedule step ${step.mode} needs ms > 0 (got ${step.ms})`,
      );
    }
  }
  return schedule.map((step) => ({ ...step }));
}

/**
 * An HTTP reverse proxy on a free loopback port in front of `upstream`, whose behaviour is
 * switched per request at run time, for fault and soak tests of registry clients.
 *
 * In 'pass' the request goes on as it came (method, path, query, headers with Authorization,
 * body), Host included: the upstream then builds its absolute URLs (upload `Location`) for
 * the proxy, so follow-up requests come back through it. Answers stream back unchanged, so a
 * `WWW-Authenticate` realm still names the token server on its own port, reached directly.
 *
 * @example
 * const proxy = await startFaultProxy({
 *   upstream: registry.url,
 *   schedule: [{ mode: 'pass', ms: 5_000 }, { mode: 'status-503', ms: 2_000 }],
 * });
 * proxy.setMode('html'); // until resumeSchedule()
 * await proxy.close();
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = parseUpstream(options.upstream);
  const basePath = upstream.pathname.replace(/\/+$/, '');
  const startMode = checkMode(options.mode ?? 'pass');
  const schedule = options.schedule ? checkSchedule(options.schedule) : undefined;
  const cycleMs = schedule?.reduce((sum, step) => sum + step.ms, 0) ?? 0;
  const retryAfter = options.retryAfterSeconds ?? 1;
  const slowMs = options.slowMs ?? 2_000;
  const now = options.now ?? Date.now;
  const startedAt = now();

  let override: FaultMode | undefined;
  const requests = Object.fromEntries(FAULT_MODES.map((mode) => [mode, 0])) as Record<
    FaultMode,
    number
  >;
  const hanging = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const currentMode = (): FaultMode => {
    if (override) return override;
    if (!schedule) return startMode;
    let position = (now() - startedAt) % cycleMs;
    for (const step of schedule) {
      if (position < step.ms) return step.mode;
      position -= step.ms;
    }
    return startMode;
  };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const upstreamReq = request(
      {
        host: upstream.hostname,
        port: upstream.port || 80,
        method: req.method,
        path: `${basePath}${req.url ?? '/'}`,
        headers: endToEndHeaders(req.rawHeaders),
        // A connection per request: a pooled one the upstream has just closed would show up
        // as a reset the test did not ask for.
        agent: false,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, endToEndHeaders(upstreamRes.rawHeaders));
        upstreamRes.pipe(res);
        upstreamRes.once('error', () => res.destroy());
        upstreamRes.once('aborted', () => res.destroy());
      },
    );
    upstreamReq.once('error', () => {
      if (res.headersSent) res.destroy();
      else sendError(req, res, 502, 'UNAVAILABLE');
    });
    // the client went away before the answer was complete
    res.once('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const mode = currentMode();
    requests[mode] += 1;
    switch (mode) {
      case 'pass':
        forward(req, res);
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) forward(req, res);
        }, slowMs);
        timers.add(timer);
        res.once('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
        return;
      }
      case 'status-503':
        sendError(req, res, 503, 'UNAVAILABLE');
        return;
      case 'rate-limit':
        sendError(req, res, 429, 'TOOMANYREQUESTS', { 'retry-after': String(retryAfter) });
        return;
      case 'html':
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(LOGIN_PAGE),
        });
        res.end(req.method === 'HEAD' ? undefined : LOGIN_PAGE);
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'hang': {
        const socket = req.socket;
        hanging.add(socket);
        socket.once('close', () => hanging.delete(socket));
        return;
      }
    }
  };

  // No request timeout: a hanging request must hang for as long as the client waits.
  const server = createServer({ requestTimeout: 0 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new RealPartsError('START_FAILED', 'fault proxy cannot listen', { cause: error })),
    );
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    get mode() {
      return currentMode();
    },
    setMode: (mode) => {
      override = checkMode(mode);
    },
    resumeSchedule: () => {
      override = undefined;
    },
    requests,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of hanging) socket.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
