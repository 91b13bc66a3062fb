/**
 * admin-api's view of which image each runtime runs locally, asked once per tick: the
 * listing is kept for `LOCAL_IMAGES_TTL_MS` and shared by every first sight in that time.
 */
import type { AdminClient, WorkspaceImage } from '../admin-client/client.js';
import type { ImagewatchConfig, WatchTarget } from '../config.js';
import { isAdminCallError } from '../errors.js';
import type { LocalObservation } from './decide.js';

const LOCAL_IMAGES_TTL_MS = 5_000;

export interface LocalImageLookupDeps {
  admin: Pick<AdminClient, 'listImages'>;
  config: Pick<ImagewatchConfig, 'adminToken' | 'autoRefresh'>;
  /** Aborts an in-flight listing (the watcher's stop). */
  signal: AbortSignal;
  now: () => number;
}

export type LocalImageLookup = (target: WatchTarget) => Promise<LocalObservation>;

export function createLocalImageLookup(deps: LocalImageLookupDeps): LocalImageLookup {
  const { admin, config, signal, now } = deps;
  let localImages: { at: number; promise: Promise<Map<string, WorkspaceImage>> } | undefined;

  return async function lookupLocal(target) {
    if (config.adminToken === undefined && !config.autoRefresh) return { kind: 'not-asked' };
    if (localImages === undefined || now() - localImages.at > LOCAL_IMAGES_TTL_MS) {
      const promise = admin
        .listImages({ signal })
        .then((list) => new Map(list.map((entry) => [entry.runtime, entry])));
      localImages = { at: now(), promise };
      // A failed listing is not kept for later callers.
      promise.catch(() => {
        if (localImages?.promise === promise) localImages = undefined;
      });
    }
    let byRuntime: Map<string, WorkspaceImage>;
    try {
      byRuntime = await localImages.promise;
    } catch (error) {
      if (!isAdminCallError(error)) throw error;
      return { kind: 'unavailable', message: error.message };
    }
    const entry = byRuntime.get(target.runtime);
    if (entry === undefined || entry.local === null) return { kind: 'absent' };
    if (entry.image !== target.image) {
      // Two services disagreeing on the registry is the bug this project exists to prevent.
      return {
        kind: 'unavailable',
        message: `admin-api resolves ${target.runtime} to ${entry.image}, imagewatch to ${target.image}: set the same MOLECULE_IMAGE_REGISTRY on both`,
      };
    }
    return { kind: 'present', digest: entry.local.digest ?? undefined };
  };
}
