import Docker from 'dockerode';

/** Credentials the test itself pulls with while it sets the engine up (not the product path). */
export interface SetupCredentials {
  readonly username: string;
  readonly password: string;
  readonly serveraddress: string;
}

/** The containers the scenario starts: names and the image reference each was created from. */
export interface WorkspaceSpec {
  readonly name: string;
  readonly image: string;
}

export function engineClient(socketPath: string): Docker {
  return new Docker({ socketPath });
}

/** Pulls through the engine and drains the stream; an error line fails the pull. */
export async function pullImage(
  docker: Docker,
  ref: string,
  auth?: SetupCredentials,
): Promise<void> {
  const stream = await docker.pull(ref, auth ? { authconfig: auth } : {});
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, events: { error?: string }[]) => {
      const failed = events?.find((event) => event.error);
      if (error) reject(error);
      else if (failed) reject(new Error(`pull of ${ref} failed: ${failed.error}`));
      else resolve();
    });
  });
}

/** Gives an image the engine already has a second reference (`docker tag`). */
export async function tagImage(docker: Docker, source: string, target: string): Promise<void> {
  const at = target.lastIndexOf(':');
  await docker.getImage(source).tag({ repo: target.slice(0, at), tag: target.slice(at + 1) });
}

/** Creates and starts a container with no network, as the platform's provisioner would. */
export async function startWorkspace(docker: Docker, spec: WorkspaceSpec): Promise<void> {
  const container = await docker.createContainer({
    name: spec.name,
    Image: spec.image,
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
}

export async function containerNames(docker: Docker): Promise<string[]> {
  const containers = await docker.listContainers({ all: true });
  return containers
    .flatMap((container) => container.Names.map((name) => name.replace(/^\//, '')))
    .sort();
}

/** Removes every container and image, so one dockerd serves several scenarios cleanly. */
export async function resetEngine(docker: Docker): Promise<void> {
  for (const container of await docker.listContainers({ all: true })) {
    await docker.getContainer(container.Id).remove({ force: true });
  }
  for (const image of await docker.listImages()) {
    await docker
      .getImage(image.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

/** The repo digests the engine holds for one reference, or [] when it has no such image. */
export async function repoDigests(docker: Docker, ref: string): Promise<string[]> {
  try {
    const info = await docker.getImage(ref).inspect();
    return info.RepoDigests ?? [];
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return [];
    throw error;
  }
}

/** Waits until none of `names` is left in the engine (they were removed for re-provisioning). */
export async function waitForContainersGone(
  docker: Docker,
  names: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const present = (await containerNames(docker)).filter((name) => names.includes(name));
    if (present.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms: ${present.join(', ')} still present`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
