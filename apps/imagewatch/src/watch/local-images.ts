/**
 * Each host's view of which image each runtime runs locally (admin-api's
 * `GET /admin/workspace-images`), asked on first sight: a host's listing is kept for
 * `LOCAL_IMAGES_TTL_MS` and shared by every first sight in that time.
 */
import type { AdminClient, WorkspaceImage } from '../admin-client/client.js';
import type { ImagewatchConfig, WatchTarget } from '../config.js';
import { isAdminCallError } from '../errors.js';
import type { AdminHosts } from '../rollouts/hosts.js';
import type { LocalObservation } from './decide.js';

const LOCAL_IMAGES_TTL_MS = 5_000;

export interface LocalImageLookupDeps {
  hosts: AdminHosts<Pick<AdminClient, 'listImages'>>;
  config: Pick<ImagewatchConfig, 'adminToken' | 'autoRefresh'>;
  /** Aborts an in-flight listing (the watcher's stop). */
  signal: AbortSignal;
  now: () => number;
}

/** Every host's observation of `target`, in configured host order. */
export type LocalImageLookup = (target: WatchTarget) => Promise<Map<string, LocalObservation>>;

export function createLocalImageLookup(deps: LocalImageLookupDeps): LocalImageLookup {
  const { hosts, config, signal, now } = deps;
  const listings = new Map<string, { at: number; promise: Promise<Map<string, WorkspaceImage>> }>();

  function listing(host: string): Promise<Map<string, WorkspaceImage>> {
    const cached = listings.get(host);
    if (cached !== undefined && now() - cached.at <= LOCAL_IMAGES_TTL_MS) return cached.promise;
    const promise = hosts
      .client(host)
      .listImages({ signal })
      .then((list) => new Map(list.map((entry) => [entry.runtime, entry])));
    listings.set(host, { at: now(), promise });
    // A failed listing is not kept for later callers.
    promise.catch(() => {
      if (listings.get(host)?.promise === promise) listings.delete(host);
    });
    return promise;
  }

  async function observe(host: string, target: WatchTarget): Promise<LocalObservation> {
    let byRuntime: Map<string, WorkspaceImage>;
    try {
      byRuntime = await listing(host);
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
  }

  return async function lookupLocal(target) {
    const observations = new Map<string, LocalObservation>();
    if (config.adminToken === undefined && !config.autoRefresh) {
      for (const host of hosts.names) observations.set(host, { kind: 'not-asked' });
      return observations;
    }
    const found = await Promise.all(hosts.names.map((host) => observe(host, target)));
    for (const [index, host] of hosts.names.entries()) observations.set(host, found[index]!);
    return observations;
  };
}
