import { type Runtime, runtimeOfImage } from '@molecule/registry';
import type Docker from 'dockerode';
import { describeEngineError, engineStatusOf } from '../errors.js';

/** Workspace containers are named `ws-<id>` by the platform. */
export const WORKSPACE_NAME_PREFIX = 'ws-';

export interface WorkspaceContainer {
  readonly id: string;
  readonly name: string;
}

export interface RecreateTarget extends WorkspaceContainer {
  readonly runtime: Runtime;
  readonly running: boolean;
}

export interface RecreateIssue {
  readonly container: string;
  readonly runtime?: Runtime;
  readonly stage: 'inspect' | 'stop' | 'remove';
  readonly message: string;
}

export interface RecreatePlan {
  readonly targets: readonly RecreateTarget[];
  /** Containers of a pulled runtime already on the freshly pulled image. */
  readonly current: readonly string[];
  readonly issues: readonly RecreateIssue[];
}

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

/**
 * Match containers to pulled runtimes by their configured image reference (`Config.Image`:
 * the list shows an image id once a tag has moved), by the exact last path component, in
 * any registry or prefix, tag or digest form. `pulledImageIds` holds the image id each
 * successfully pulled runtime now resolves to in the engine.
 */
export async function planRecreate(
  docker: Docker,
  containers: readonly WorkspaceContainer[],
  pulledImageIds: ReadonlyMap<Runtime, string>,
): Promise<RecreatePlan> {
  const targets: RecreateTarget[] = [];
  const current: string[] = [];
  const issues: RecreateIssue[] = [];
  for (const container of containers) {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await docker.getContainer(container.id).inspect();
    } catch (error) {
      if (engineStatusOf(error) === 404) continue; // removed meanwhile: nothing to do
      issues.push({
        container: container.name,
        stage: 'inspect',
        message: describeEngineError(error),
      });
      continue;
    }
    const runtime = runtimeOfImage(info.Config?.Image ?? '');
    if (runtime === undefined) continue;
    const newImageId = pulledImageIds.get(runtime);
    if (newImageId === undefined) continue; // that runtime was not pulled (or failed): untouched
    if (info.Image === newImageId) {
      current.push(container.name);
      continue;
    }
    targets.push({ ...container, runtime, running: info.State?.Running === true });
  }
  return { targets, current, issues };
}

export type RemoveOutcome =
  | { readonly ok: true; readonly gone: boolean }
  | { readonly ok: false; readonly issue: RecreateIssue };

/**
 * Stop with a grace period (SIGTERM, then SIGKILL after `graceSeconds`), then remove, so the
 * platform re-provisions the workspace on the new image. A container that vanished meanwhile
 * is reported as `gone`, not as recreated.
 */
export async function stopAndRemove(
  docker: Docker,
  target: RecreateTarget,
  graceSeconds: number,
): Promise<RemoveOutcome> {
  const container = docker.getContainer(target.id);
  try {
    await container.stop({ t: graceSeconds });
  } catch (error) {
    const status = engineStatusOf(error);
    if (status === 404) return { ok: true, gone: true };
    if (status !== 304) {
      return {
        ok: false,
        issue: {
          container: target.name,
          runtime: target.runtime,
          stage: 'stop',
          message: describeEngineError(error),
        },
      };
    }
    // 304: already stopped
  }
  try {
    // force: a restart policy may have started it again between stop and remove.
    await container.remove({ force: true, v: false });
  } catch (error) {
    if (engineStatusOf(error) === 404) return { ok: true, gone: true };
    return {
      ok: false,
      issue: {
        container: target.name,
        runtime: target.runtime,
        stage: 'remove',
        message: describeEngineError(error),
      },
    };
  }
  return { ok: true, gone: false };
}
