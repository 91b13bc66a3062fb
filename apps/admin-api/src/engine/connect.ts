import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withDeadline } from '@molecule/service-kit';
import Docker from 'dockerode';
import type { DockerConnection } from '../config.js';

/**
 * The newest Engine API version this service is written against. The client speaks
 * min(engine's ApiVersion, this), so it works with old engines (Debian's 20.10 → 1.41) and
 * with current ones whose minimum is 1.44; a client pinned to an old version breaks there.
 * https://docs.docker.com/reference/api/engine/#api-version-matrix
 */
export const MAX_API_VERSION = '1.47';

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/** min(engine, ours), or the engine's when ours is below its minimum. */
export function chooseApiVersion(engineVersion: string, engineMinVersion?: string): string {
  let chosen =
    compareVersions(engineVersion, MAX_API_VERSION) < 0 ? engineVersion : MAX_API_VERSION;
  if (engineMinVersion && compareVersions(chosen, engineMinVersion) < 0) chosen = engineVersion;
  return chosen;
}

/** A dockerode client for the configured engine; `apiVersion` undefined → unversioned paths. */
export function createDocker(connection: DockerConnection, apiVersion?: string): Docker {
  const version = apiVersion === undefined ? {} : { version: `v${apiVersion}` };
  if (connection.kind === 'socket') {
    // host/port set to undefined explicitly: docker-modem would otherwise fill them from
    // DOCKER_HOST itself, and config.ts is the only reader of the environment.
    return new Docker({
      socketPath: connection.socketPath,
      host: undefined,
      port: undefined,
      ...version,
    } as Docker.DockerOptions);
  }
  const tls = connection.tls;
  return new Docker({
    host: connection.host,
    port: connection.port,
    protocol: tls ? 'https' : 'http',
    ...(tls
      ? {
          ca: readFileSync(join(tls.certPath, 'ca.pem')),
          cert: readFileSync(join(tls.certPath, 'cert.pem')),
          key: readFileSync(join(tls.certPath, 'key.pem')),
        }
      : {}),
    ...version,
  } as Docker.DockerOptions);
}

export interface EngineHandle {
  readonly docker: Docker;
  /** The negotiated version, or undefined when the engine was unreachable at start. */
  readonly apiVersion: string | undefined;
}

/**
 * Ask the engine (unversioned `GET /version`) what it speaks and build the client on the
 * negotiated version. An engine that does not answer yet gets an unversioned client, which
 * the engine serves at its own current version (readiness reports it as down meanwhile).
 */
export async function connectEngine(
  connection: DockerConnection,
  options: { timeoutMs?: number } = {},
): Promise<EngineHandle> {
  const probe = createDocker(connection);
  try {
    const info = (await withDeadline(
      options.timeoutMs ?? 5000,
      undefined,
      ({ signal }) =>
        probe.version({ abortSignal: signal } as never) as unknown as Promise<unknown>,
    )) as unknown as { ApiVersion?: string; MinAPIVersion?: string };
    if (!info.ApiVersion) return { docker: probe, apiVersion: undefined };
    const apiVersion = chooseApiVersion(info.ApiVersion, info.MinAPIVersion);
    return { docker: createDocker(connection, apiVersion), apiVersion };
  } catch {
    return { docker: probe, apiVersion: undefined };
  }
}
