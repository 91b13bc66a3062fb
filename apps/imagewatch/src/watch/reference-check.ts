/**
 * Checks one watched reference: the registry's digest (skipped while its host is rate
 * limited), each host's local image on first sight, the decision, and the rollout it calls for
 * (started here, driven by the rollout engine). A failing check is logged when its error
 * changes, not on every check.
 */
import { parseImageReference } from '@molecule/registry';
import { isRegistryError, type RegistryClient } from '@molecule/registry-client';
import type { Logger } from 'pino';
import type { AdminClient } from '../admin-client/client.js';
import type { ImagewatchConfig, WatchTarget } from '../config.js';
import type { CheckOutcome, Metrics } from '../metrics.js';
import type { RolloutEngine } from '../rollouts/engine.js';
import type { AdminHosts } from '../rollouts/hosts.js';
import type { WatchStore } from '../store/watch-store.js';
import {
  type Decision,
  decide,
  digestToRecord,
  type LocalObservation,
  needsLocalLookup,
  type RemoteObservation,
  shortDigest,
} from './decide.js';
import { createLocalImageLookup } from './local-images.js';
import type { TrustGate, TrustOutcome } from './trust-gate.js';

export interface CheckResult {
  readonly runtime: string;
  readonly image: string;
  readonly outcome: CheckOutcome | 'aborted';
  readonly remote: RemoteObservation | undefined;
  readonly decision: Decision | undefined;
  /** The rollout this check started (or found running for the digest). */
  readonly rollout?: string;
  /** The signed-image gate's word on a moved digest (absent when it was not asked). */
  readonly trust?: TrustOutcome;
}

export interface ReferenceChecker {
  /** Never throws: every failure is an outcome of the result. */
  check(target: WatchTarget): Promise<CheckResult>;
}

export interface ReferenceCheckerDeps {
  client: Pick<RegistryClient, 'getManifestDigest'>;
  hosts: AdminHosts<Pick<AdminClient, 'listImages'>>;
  store: Pick<WatchStore, 'seenDigest' | 'commit'>;
  rollouts: Pick<RolloutEngine, 'begin'>;
  /** The signed-image gate (`off` asks nothing). */
  trust: TrustGate;
  config: Pick<ImagewatchConfig, 'autoRefresh' | 'adminToken'>;
  logger: Logger;
  metrics: Metrics;
  /** The watched references; their registry hosts are resolved once, here. */
  targets: readonly WatchTarget[];
  /** Aborts in-flight registry and admin-api calls (the watcher's stop). */
  signal: AbortSignal;
  now: () => number;
}

const DEFAULT_RATE_LIMIT_BACKOFF_MS = 60_000;

const AUTH_FIX =
  'set MOLECULE_REGISTRY_USERNAME and MOLECULE_REGISTRY_PASSWORD for this registry host, or log in with ' +
  '`docker login <host>` (Docker config / credential helper); for ECR make AWS credentials available';

export function createReferenceChecker(deps: ReferenceCheckerDeps): ReferenceChecker {
  const { client, hosts, store, rollouts, trust, config, logger, metrics, signal, now } = deps;
  const hostOf = new Map(deps.targets.map((t) => [t.image, safeDomain(t.image)]));
  const backoffUntil = new Map<string, number>();
  const errorState = new Map<string, string>();
  const reportedChange = new Map<string, string>();
  const lookupLocal = createLocalImageLookup({ hosts, config, signal, now });

  // The reference's fields on every line, without a pino child per reference: a child costs
  // ~10 KB (its own redaction and serializers), 10 MB of long-lived heap at 1,000 references.
  const loggers = new Map<string, ReferenceLog>();
  function log(target: WatchTarget): ReferenceLog {
    let found = loggers.get(target.image);
    if (found === undefined) {
      found = referenceLog(logger, { runtime: target.runtime, image: target.image });
      loggers.set(target.image, found);
    }
    return found;
  }

  async function fetchRemote(target: WatchTarget): Promise<RemoteObservation> {
    try {
      const { digest } = await client.getManifestDigest(target.image, { signal });
      return { kind: 'resolved', digest };
    } catch (error) {
      // Our own stop aborted the request: the caller sees the signal and reports `aborted`.
      if (signal.aborted) return { kind: 'failed', code: 'ABORTED', message: 'aborted' };
      if (!isRegistryError(error)) throw error;
      if (error.code === 'RATE_LIMITED') {
        const wait =
          error.retryAfterMs !== undefined && error.retryAfterMs >= 0
            ? error.retryAfterMs
            : DEFAULT_RATE_LIMIT_BACKOFF_MS;
        const host = hostOf.get(target.image) ?? target.image;
        backoffUntil.set(host, Math.max(backoffUntil.get(host) ?? 0, now() + wait));
      }
      return { kind: 'failed', code: error.code, message: error.message };
    }
  }

  function noteError(target: WatchTarget, remote: Extract<RemoteObservation, { kind: 'failed' }>) {
    metrics.checkErrors.inc({ runtime: target.runtime, code: remote.code });
    const previous = errorState.get(target.image);
    errorState.set(target.image, remote.code);
    const child = log(target);
    if (previous === remote.code) {
      child.debug({ code: remote.code }, 'digest check still failing');
      return;
    }
    const host = hostOf.get(target.image);
    if (remote.code === 'UNAUTHORIZED') {
      child.error(
        { code: remote.code, host, err: remote.message, fix: AUTH_FIX },
        'registry refused our credentials',
      );
    } else if (remote.code === 'RATE_LIMITED') {
      child.warn(
        {
          code: remote.code,
          host,
          retryAt: new Date(backoffUntil.get(host ?? '') ?? now()).toISOString(),
        },
        'registry rate limit: backing off',
      );
    } else if (remote.code === 'NOT_FOUND') {
      child.error(
        {
          code: remote.code,
          host,
          err: remote.message,
          fix: 'push the image to the configured registry or fix MOLECULE_IMAGE_REGISTRY',
        },
        'image not found in the registry',
      );
    } else {
      child.warn(
        { code: remote.code, host, err: remote.message },
        'digest check failed (retrying next tick)',
      );
    }
  }

  function noteRecovered(target: WatchTarget) {
    const previous = errorState.get(target.image);
    if (previous === undefined) return;
    errorState.delete(target.image);
    log(target).info({ previousCode: previous }, 'digest check works again');
  }

  async function check(target: WatchTarget): Promise<CheckResult> {
    const base = { runtime: target.runtime, image: target.image };
    if (signal.aborted)
      return { ...base, outcome: 'aborted', remote: undefined, decision: undefined };
    const host = hostOf.get(target.image) ?? target.image;
    const until = backoffUntil.get(host);
    if (until !== undefined && until > now()) {
      metrics.checks.inc({ runtime: target.runtime, outcome: 'backoff' });
      log(target).debug(
        { retryAt: new Date(until).toISOString() },
        'rate limited: skipping this check',
      );
      return { ...base, outcome: 'backoff', remote: undefined, decision: undefined };
    }

    const remote = await fetchRemote(target);
    if (signal.aborted) return { ...base, outcome: 'aborted', remote, decision: undefined };
    if (remote.kind === 'failed') {
      noteError(target, remote);
    } else {
      noteRecovered(target);
    }
    const seen = (await store.seenDigest(target.image))?.digest;
    const locals: ReadonlyMap<string, LocalObservation> = needsLocalLookup(seen, remote)
      ? await lookupLocal(target)
      : new Map();
    const decision = decide({ seen, remote, locals, autoRefresh: config.autoRefresh });
    const child = log(target);

    let rollout: string | undefined;
    let judged: TrustOutcome | undefined;
    let outcome: CheckOutcome;
    let record = digestToRecord(decision);
    switch (decision.action) {
      case 'seed':
        outcome = 'seeded';
        child.info({ digest: shortDigest(decision.digest) }, 'first sight: digest recorded');
        break;
      case 'unchanged':
        outcome = 'unchanged';
        break;
      case 'retry':
        outcome = 'error';
        if (decision.reason === 'local-unknown') {
          child.warn(
            { err: decision.message },
            'first sight but admin-api cannot say which digest a host runs: retrying next tick',
          );
        }
        break;
      case 'report':
      case 'rollout': {
        judged = await trust.judge(target, decision.to, signal);
        if (judged.kind === 'failed') {
          // The registry could not say whether it is signed: like a failed check, try again.
          outcome = 'error';
          record = undefined;
          child.warn(
            { code: judged.code, err: judged.message, digest: shortDigest(decision.to) },
            'signature check failed (retrying next tick)',
          );
          break;
        }
        if (judged.kind === 'verdict' && !judged.allowed && decision.action === 'rollout') {
          // Not rolled out, and not recorded: a signature published later is found next tick.
          outcome = 'untrusted';
          record = undefined;
          break;
        }
        outcome = 'changed';
        const fields = {
          reason: decision.reason,
          old: shortDigest(decision.from),
          new: shortDigest(decision.to),
        };
        if (reportedChange.get(target.image) !== decision.to) {
          reportedChange.set(target.image, decision.to);
          metrics.digestChanges.inc({ runtime: target.runtime });
          child.warn(
            fields,
            decision.action === 'report'
              ? 'digest changed (monitor-only: not rolling out)'
              : 'digest changed: rolling it out',
          );
        }
        if (decision.action === 'rollout') {
          rollout = (
            await rollouts.begin({
              target,
              from: decision.from,
              to: decision.to,
              alreadyDone: decision.alreadyDone,
            })
          ).id;
        }
        break;
      }
    }
    // A rollout records its digest itself, with the rollout, in one commit.
    if (rollout !== undefined) record = undefined;
    if (record !== undefined && record !== seen) {
      await store.commit({ seen: { image: target.image, digest: record } });
    }
    metrics.checks.inc({ runtime: target.runtime, outcome });
    return {
      ...base,
      outcome,
      remote,
      decision,
      ...(rollout === undefined ? {} : { rollout }),
      ...(judged === undefined ? {} : { trust: judged }),
    };
  }

  return { check };
}

function safeDomain(image: string): string {
  try {
    return parseImageReference(image).domain;
  } catch {
    return image;
  }
}

type LogMethod = (fields: Record<string, unknown>, message: string) => void;

/** The log methods of one reference: its `runtime` and `image` on every line. */
interface ReferenceLog {
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
}

function referenceLog(logger: Logger, base: { runtime: string; image: string }): ReferenceLog {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error'): LogMethod =>
    (fields, message) => {
      if (logger.isLevelEnabled(level)) logger[level]({ ...base, ...fields }, message);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
