/**
 * Which `ws-*` containers a refresh removes: pure. A container belongs to a runtime by its
 * configured image reference (`Config.Image`), by the exact last path component
 * `workspace-template-<runtime>`, in any registry or prefix, tag or digest form (so a container
 * still on the old registry's reference after a registry switch is matched too). Only
 * runtimes that were pulled count; a container already on the pulled image stays.
 */
import { type Runtime, runtimeOfImage } from '@molecule/registry';
import type { InspectedContainer } from '../engine/containers.js';

export interface RecreateTarget {
  readonly id: string;
  readonly name: string;
  readonly runtime: Runtime;
  /** False when the engine said it is not running: removed without a stop first. */
  readonly running: boolean;
}

export interface RecreatePlan {
  readonly targets: readonly RecreateTarget[];
  /** Containers of a pulled runtime already on the freshly pulled image. */
  readonly current: readonly string[];
}

/** `pulledImageIds`: the image id each successfully pulled runtime now resolves to. */
export function planRecreate(
  containers: readonly InspectedContainer[],
  pulledImageIds: ReadonlyMap<Runtime, string>,
): RecreatePlan {
  const targets: RecreateTarget[] = [];
  const current: string[] = [];
  for (const container of containers) {
    const runtime = runtimeOfImage(container.configuredImage);
    if (runtime === undefined) continue;
    const newImageId = pulledImageIds.get(runtime);
    if (newImageId === undefined) continue; // not pulled (or failed): untouched
    if (container.imageId === newImageId) current.push(container.name);
    else
      targets.push({ id: container.id, name: container.name, runtime, running: container.running });
  }
  return { targets, current };
}
