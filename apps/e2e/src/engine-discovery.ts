import { request } from 'node:http';
import { findBinary, startDockerd } from '@molecule/real-parts';

export type EngineChoice =
  | { kind: 'private'; socketPath: string; close: () => Promise<void> }
  | { kind: 'existing'; socketPath: string; close: () => Promise<void> }
  | { kind: 'missing'; reason: string };

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/**
 * Finds a Docker engine for the demo. A private dockerd (started here, gone when the demo
 * ends) comes first: the demo removes `ws-*` containers, which it must never do on an
 * engine that runs real workspaces. An existing engine (DOCKER_HOST or the default socket)
 * is used only when no private one can be started.
 */
export async function chooseEngine(dockerHost: string | undefined): Promise<EngineChoice> {
  if (findBinary('dockerd') && process.getuid?.() === 0) {
    const dockerd = await startDockerd();
    return { kind: 'private', socketPath: dockerd.socketPath, close: () => dockerd.close() };
  }
  const candidate = dockerHost?.startsWith('unix://')
    ? dockerHost.slice('unix://'.length)
    : '/var/run/docker.sock';
  if (await ping(candidate))
    return { kind: 'existing', socketPath: candidate, close: async () => undefined };
  return {
    kind: 'missing',
    reason: [
      'No Docker engine answers, and none can be started here.',
      `  - nothing answered at ${dockerHost ?? 'unix:///var/run/docker.sock'}`,
      findBinary('dockerd')
        ? '  - dockerd is installed, but starting a private one needs root'
        : '  - dockerd is not installed (Debian: apt-get install docker.io, as root)',
      'Start an engine (or install docker.io and run as root), then run scripts/demo again.',
    ].join('\n'),
  };
}
