/**
 * Starting a service process the way an operator would and waiting until it is healthy, and
 * the environment every service of a test setup shares (the one registry variable, its
 * credentials, and empty HOME / DOCKER_CONFIG so nothing of the machine leaks in).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ServiceName,
  type ServiceProcess,
  type StartServiceOptions,
  startService,
} from './service-process.js';
import { waitForHttp } from './wait.js';

export interface SharedEnvironmentOptions {
  /** MOLECULE_IMAGE_REGISTRY. */
  readonly prefix: string;
  readonly adminToken: string;
  readonly credentials?: { readonly username: string; readonly password: string };
  /** Where the empty HOME and DOCKER_CONFIG are made. */
  readonly workDir: string;
}

export async function sharedEnvironment(
  options: SharedEnvironmentOptions,
): Promise<Record<string, string>> {
  const home = join(options.workDir, 'home');
  const dockerConfig = join(options.workDir, 'docker-config');
  await mkdir(home, { recursive: true });
  await mkdir(dockerConfig, { recursive: true });
  return {
    MOLECULE_IMAGE_REGISTRY: options.prefix,
    MOLECULE_ADMIN_TOKEN: options.adminToken,
    HOME: home,
    DOCKER_CONFIG: dockerConfig,
    LOG_LEVEL: 'info',
    ...(options.credentials
      ? {
          MOLECULE_REGISTRY_USERNAME: options.credentials.username,
          MOLECULE_REGISTRY_PASSWORD: options.credentials.password,
        }
      : {}),
  };
}

/**
 * Starts a service and resolves once `healthUrl` answers; rejects with the service's log when
 * it exits first or stays unhealthy for 20 s.
 */
export async function startHealthyService(
  name: ServiceName,
  options: StartServiceOptions,
  healthUrl: string,
): Promise<ServiceProcess> {
  const service = startService(name, options);
  try {
    await Promise.race([
      waitForHttp(healthUrl, 20_000),
      service.exited.then((code) => {
        throw new Error(
          `${name} exited (${code}) at start:\n${service.lines.map((l) => JSON.stringify(l)).join('\n')}`,
        );
      }),
    ]);
  } catch (error) {
    await service.stop('SIGKILL');
    throw error;
  }
  return service;
}
