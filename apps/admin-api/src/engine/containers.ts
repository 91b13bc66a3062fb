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

/** What the recreate policy needs of one inspected container. */
export interface InspectedContainer extends WorkspaceContainer {
  /** `Config.Image`: the reference it was created from (the list shows an image id once a tag moved). */
  readonly configuredImage: string;
  /** The image id it runs. */
  readonly imageId: string;
}

export type InspectOutcome =
  | { readonly kind: 'found'; readonly container: InspectedContainer }
  | { readonly kind: 'gone' }
  | { readonly kind: 'failed'; readonly message: string };

/** Containers named `ws-*`, in every state. Throws the engine's error when listing fails. */
export async function listWorkspaceContainers(docker: Docker): Promise<WorkspaceContainer[]> {
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ name: [`^/${WORKSPACE_NAME_PREFIX}`] }),
  });
  const found: WorkspaceContainer[] = [];
  for (const entry of list) {
    // The engine's name filter is a regex on any of the names; keep only the primary name.
    const name = (entry.Names?.[0] ?? '').replace(/^\//, '');
    if (name.startsWith(WORKSPACE_NAME_PREFIX)) found.push({ id: entry.Id, name });
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
      container: { ...container, configuredImage: info.Config?.Image ?? '', imageId: info.Image },
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
 * is reported as `gone`, not as removed.
 */
export async function stopAndRemove(
  docker: Docker,
  container: WorkspaceContainer,
  graceSeconds: number,
): Promise<RemoveOutcome> {
  const handle = docker.getContainer(container.id);
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
