/**
 * A TCP proxy in front of a real PostgreSQL, for what the server alone cannot show:
 *
 * - `freeze()`: bytes stop flowing both ways while every socket stays open, as a half-open
 *   connection looks (a cable pulled, a NAT that forgot us): the client hears nothing, the
 *   server keeps the session (and its locks) until the sockets are really closed.
 * - `mode: 'transaction'`: what pgbouncer's `pool_mode = transaction` does to one client:
 *   each client connection is backed by TWO server sessions (same startup packet, trust auth),
 *   and the next statement goes to the other session whenever the server reports "idle, not
 *   in a transaction" (ReadyForQuery with status `I`). Transactions stay on one session.
 *   https://www.postgresql.org/docs/15/protocol-message-formats.html
 */
import { createServer, type Socket, connect as tcpConnect } from 'node:net';

export interface PgProxy {
  readonly port: number;
  /** `url` with the proxy's port instead of the server's. */
  through(url: string): string;
  freeze(): void;
  /** Ends every connection (both sides). */
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;

export async function startPgProxy(options: {
  upstreamPort: number;
  mode?: 'session' | 'transaction';
}): Promise<PgProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    return socket;
  };
  const upstream = () => track(tcpConnect(options.upstreamPort, '127.0.0.1'));

  const server = createServer((client) => {
    track(client);
    if (options.mode === 'transaction') return pool(client);
    const server = upstream();
    client.on('data', (chunk) => frozen || server.write(chunk));
    server.on('data', (chunk) => frozen || client.write(chunk));
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });

  /** Two sessions behind one client, switched between statements (see above). */
  function pool(client: Socket): void {
    const sessions = [upstream(), upstream()] as const;
    let current = 0;
    let startupDone = false;
    let pending = Buffer.alloc(0);
    const closeAll = () => {
      client.destroy();
      for (const s of sessions) s.destroy();
    };
    client.on('close', closeAll);
    client.on('data', (chunk) => {
      if (frozen) return;
      if (startupDone) {
        sessions[current]!.write(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 8) return;
      const length = pending.readInt32BE(0);
      if (pending.length < length) return;
      if (pending.readInt32BE(4) === SSL_REQUEST) {
        client.write('N');
        pending = pending.subarray(length);
        return;
      }
      startupDone = true;
      for (const s of sessions) s.write(pending);
      pending = Buffer.alloc(0);
    });
    sessions.forEach((session, index) => {
      let buffer = Buffer.alloc(0);
      // The second session's startup answers (auth ok, parameters, key data) are ours alone.
      let muted = index === 1;
      session.on('close', closeAll);
      session.on('data', (chunk) => {
        if (frozen) return;
        buffer = Buffer.concat([buffer, chunk]);
        while (buffer.length >= 5) {
          const length = buffer.readInt32BE(1) + 1;
          if (buffer.length < length) break;
          const message = buffer.subarray(0, length);
          buffer = buffer.subarray(length);
          const readyForQuery = message[0] === 'Z'.charCodeAt(0);
          if (muted) {
            if (readyForQuery) muted = false;
            continue;
          }
          client.write(message);
          // Idle again (not in a transaction): the next statement may go to the other session.
          if (readyForQuery && message[5] === 'I'.charCodeAt(0) && index === current) {
            current = 1 - current;
          }
        }
      });
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    through(url) {
      const parsed = new URL(url);
      parsed.port = String(port);
      return parsed.toString();
    },
    freeze() {
      frozen = true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
