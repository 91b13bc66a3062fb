/**
 * The dockerode side of recreating workspaces: list the `ws-*` containers, inspect one, stop
 * and remove one. Which containers to remove is refresh policy (refresh/recreate-plan.ts).
 */
import type Docker from 'dockerode';
import { describeEngineError, engineStatusOf } from './engine-errors.js';

/** Workspace containers are named `ws-<id>` by the platform. */
export const WORKSPACE_NAME_PREFIX = 'ws-';

export interface WorkspaceContainer {
  readonly id: string;
  readonly name: string;
}

/** A `ws-*` container as `GET /containers/json` shows it. */
export interface ListedContainer extends WorkspaceContainer {
  /**
   * The listing's `Image`: the configured reference while that reference still resolves to the
   * image the container runs, else the id of the image it runs (once a tag has moved).
   */
  readonly listedImage: string;
  /** `ImageID`: the image it runs; `''` when the engine did not say. */
  readonly imageId: string;
  /** `State`: `running`, `exited`, `created`, `paused`, `restarting`, `removing`, `dead`. */
  readonly state: string;
}

/** What the recreate policy needs of one container. */
export interface InspectedContainer extends WorkspaceContainer {
  /** `Config.Image`: the reference it was created from (the list shows an image id once a tag moved). */
  readonly configuredImage: string;
  /** The image id it runs. */
  readonly imageId: string;
  /** False only when the engine said it is not running (exited, created, dead). */
  readonly running: boolean;
}

export type InspectOutcome =
  | { readonly kind: 'found'; readonly container: InspectedContainer }
  | { readonly kind: 'gone' }
  | { readonly kind: 'failed'; readonly message: string };

/** States in which a container has no process to stop gracefully. */
const NOT_RUNNING_STATES = new Set(['exited', 'created', 'dead']);

const IMAGE_ID = /^(sha256:)?[0-9a-f]{64}$/;

/** Whether the listing's `State` says the container may run (paused, restarting: yes). */
export function isListedRunning(container: Pick<ListedContainer, 'state'>): boolean {
  return !NOT_RUNNING_STATES.has(container.state);
}

/**
 * The container as the recreate policy needs it, from its listing alone, when the listing
 * tells: the engine lists the configured reference (`Config.Image`) as `Image` only while that
 * reference still resolves to the image the container runs, and the image id otherwise
 * (moby daemon/list.go, `refreshImage`). So an `Image` that is not an image id is
 * `Config.Image`; an id means the tag moved (or the container was created from an id), and
 * only an inspect says what it was created from. Undefined: inspect it.
 */
export function resolveFromListing(container: ListedContainer): InspectedContainer | undefined {
  const { listedImage, imageId } = container;
  if (imageId === '' || listedImage === '' || listedImage === imageId) return undefined;
  if (IMAGE_ID.test(listedImage)) return undefined;
  return {
    id: container.id,
    name: container.name,
    configuredImage: listedImage,
    imageId,
    running: isListedRunning(container),
  };
}

/** Containers named `ws-*`, in every state. Throws the engine's error when listing fails. */
export async function listWorkspaceContainers(docker: Docker): Promise<ListedContainer[]> {
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ name: [`^/${WORKSPACE_NAME_PREFIX}`] }),
  });
  const found: ListedContainer[] = [];
  for (const entry of list) {
    // The engine's name filter is a regex on any of the names; keep only the primary name.
    const name = (entry.Names?.[0] ?? '').replace(/^\//, '');
    if (!name.startsWith(WORKSPACE_NAME_PREFIX)) continue;
    found.push({
      id: entry.Id,
      name,
      listedImage: entry.Image ?? '',
      imageId: entry.ImageID ?? '',
      state: entry.State ?? '',
    });
  }
  return found;
}

/** One container's configured image and running image id; `gone` when removed meanwhile. */
export async function inspectContainer(
  docker: Docker,
  container: WorkspaceContainer,
): Promise<InspectOutcome> {
  try {
    const info = await docker.getContainer(container.id).inspect();
    return {
      kind: 'found',
      container: {
        id: container.id,
        name: container.name,
        configuredImage: info.Config?.Image ?? '',
        imageId: info.Image,
        // Running is also true while paused or restarting: those get the graceful stop too.
        running: info.State?.Running !== false,
      },
    };
  } catch (error) {
    if (engineStatusOf(error) === 404) return { kind: 'gone' };
    return { kind: 'failed', message: describeEngineError(error) };
  }
}

export type RemoveOutcome =
  | { readonly ok: true; readonly gone: boolean }
  | { readonly ok: false; readonly stage: 'stop' | 'remove'; readonly message: string };

/**
 * Stop with a grace period (SIGTERM, then SIGKILL after `graceSeconds`), then remove, so the
 * platform re-provisions the workspace on the new image. A container that vanished meanwhile
 * is reported as `gone`, not as removed. One the engine said is not running is removed at
 * once, without `force`: if a restart policy started it since, the engine refuses (409) and
 * it gets the graceful stop like any running one.
 */
export async function stopAndRemove(
  docker: Docker,
  container: WorkspaceContainer & { readonly running: boolean },
  graceSeconds: number,
): Promise<RemoveOutcome> {
  const handle = docker.getContainer(container.id);
  if (!container.running) {
    try {
      await handle.remove({ force: false, v: false });
      return { ok: true, gone: false };
    } catch (error) {
      const status = engineStatusOf(error);
      if (status === 404) return { ok: true, gone: true };
      // 409: running after all (or being removed): the graceful path decides.
      if (status !== 409)
        return { ok: false, stage: 'remove', message: describeEngineError(error) };
    }
  }
  try {
    await handle.stop({ t: graceSeconds });
  } catch (error) {
    const status = engineStatusOf(error);
    if (status === 404) return { ok: true, gone: true };
    // 304: already stopped.
    if (status !== 304) return { ok: false, stage: 'stop', message: describeEngineError(error) };
  }
  try {
    // force: a restart policy may have started it again between stop and remove.
    await handle.remove({ force: true, v: false });
  } catch (error) {
    if (engineStatusOf(error) === 404) return { ok: true, gone: true };
    return { ok: false, stage: 'remove', message: describeEngineError(error) };
  }
  return { ok: true, gone: false };
}
