/**
 * The `ws-*` containers as one refresh sees them. Listed anew for each pulled runtime (a
 * workspace created on the old image while that runtime pulled must still be found), each
 * container resolved from its listing where the listing tells, else inspected, at most once
 * per refresh: what a container was created from (`Config.Image`) and the image it runs never
 * change, so an earlier listing's or inspect's word stays true.
 */
import { createLimiter } from '@molecule/service-kit';
import type Docker from 'dockerode';
import {
  type InspectedContainer,
  type InspectOutcome,
  inspectContainer,
  isListedRunning,
  type ListedContainer,
  listWorkspaceContainers,
  resolveFromListing,
} from '../engine/containers.js';

export interface WorkspaceIndexOptions {
  readonly docker: Docker;
  /** How many containers are inspected at once, across every listing of the refresh. */
  readonly inspectConcurrency: number;
}

/** A container whose inspect failed: reported by the listing that ran the inspect, once. */
export interface InspectFailure {
  readonly container: string;
  readonly message: string;
}

export type WorkspaceListing =
  | {
      readonly ok: true;
      /** In listing order; those gone meanwhile or whose inspect failed left out. */
      readonly containers: readonly InspectedContainer[];
      readonly inspectFailures: readonly InspectFailure[];
    }
  /** The engine's error: listing the containers failed. */
  | { readonly ok: false; readonly error: unknown };

export interface WorkspaceIndex {
  /** List the `ws-*` containers now and say what each was created from and runs. */
  list(): Promise<WorkspaceListing>;
}

export function createWorkspaceIndex(options: WorkspaceIndexOptions): WorkspaceIndex {
  const { docker } = options;
  const inspectLimit = createLimiter(options.inspectConcurrency);
  /** By container id: a listing's word or the one inspect (shared while it runs). */
  const known = new Map<string, Promise<InspectOutcome>>();

  async function resolve(
    listed: ListedContainer,
    inspectFailures: InspectFailure[],
  ): Promise<InspectedContainer | undefined> {
    const fromListing = resolveFromListing(listed);
    if (fromListing !== undefined) {
      if (!known.has(listed.id)) known.set(listed.id, Promise.resolve(found(fromListing)));
      return fromListing;
    }
    let outcome = known.get(listed.id);
    const inspectedHere = outcome === undefined;
    if (outcome === undefined) {
      outcome = inspectLimit(() => inspectContainer(docker, listed));
      known.set(listed.id, outcome);
    }
    const settled = await outcome;
    if (settled.kind === 'found') {
      // Whether it runs may have changed since: this listing is the newer word (and
      // stopAndRemove copes when even that is stale).
      return { ...settled.container, running: isListedRunning(listed) };
    }
    if (settled.kind === 'failed' && inspectedHere) {
      inspectFailures.push({ container: listed.name, message: settled.message });
    }
    return undefined;
  }

  return {
    async list() {
      let listed: ListedContainer[];
      try {
        listed = await listWorkspaceContainers(docker);
      } catch (error) {
        return { ok: false, error };
      }
      const inspectFailures: InspectFailure[] = [];
      const resolved = await Promise.all(listed.map((c) => resolve(c, inspectFailures)));
      const containers = resolved.filter((c): c is InspectedContainer => c !== undefined);
      return { ok: true, containers, inspectFailures };
    },
  };
}

const found = (container: InspectedContainer): InspectOutcome => ({ kind: 'found', container });
