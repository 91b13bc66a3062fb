/**
 * One leader among any number of replicas (SPEC "Fleet state on PostgreSQL"): only the leader
 * ticks, rolls out and calls admin-api, under the epoch it took at its takeover. Two
 * implementations: `createSoleLeadership` for the state file (one process, always leader)
 * and `createPostgresLeadership` (an advisory lock on a dedicated connection).
 */

export interface LeadershipHealth {
  readonly ok: boolean;
  readonly reason?: string;
}

export interface Leadership {
  /** True while this replica holds the lock (as far as it knows). */
  isLeader(): boolean;
  /**
   * Re-checks now that it still holds the lock; false on any doubt (an error, a timeout), and
   * then it steps down. Call it before every tick and every refresh call. Concurrent calls
   * share one check.
   */
  confirm(): Promise<boolean>;
  /** The epoch taken at the last takeover (sent as X-Rollout-Epoch); 0 before any. */
  epoch(): number;
  /** `true` after a takeover, `false` after stepping down. Returns the unsubscribe. */
  onChange(listener: (leader: boolean) => void): () => void;
  /** Any replica: ask the leader to check a runtime now. Resolves once sent. */
  requestCheck(runtime: string): Promise<void>;
  /** Called on the leader only. */
  onCheckRequested(listener: (runtime: string) => void): () => void;
  /** Any replica: tell the leader a rollout changed in the store. Resolves once sent. */
  announceRollout(id: string): Promise<void>;
  /** Called on the leader only. */
  onRolloutAnnounced(listener: (id: string) => void): () => void;
  /** ok, or the reason (database unreachable, campaigning since …, a pooler in the way). */
  health(): LeadershipHealth;
  start(): void;
  /** Steps down (unlocks if it can), stops campaigning, closes its connections. */
  stop(): Promise<void>;
}

/** The `imagewatch_leader` gauge (1 on the leader, 0 elsewhere) and friends; prom-client fits. */
export interface LeadershipMetrics {
  readonly leader: { set(value: number): void };
  /** Takeovers by this replica (`imagewatch_leader_takeovers_total`), optional. */
  readonly takeovers?: { inc(): void };
}

/** Listeners of one kind; a listener that throws is reported, never breaks the others. */
export function createListeners<T>(onListenerError: (error: unknown) => void): {
  add(listener: (value: T) => void): () => void;
  emit(value: T): void;
} {
  const listeners = new Set<(value: T) => void>();
  return {
    add(listener) {
      // A wrapper per subscription: the same function subscribed twice is called twice.
      const entry = (value: T) => listener(value);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    emit(value) {
      for (const listener of [...listeners]) {
        try {
          listener(value);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
  };
}

export interface SoleLeadershipOptions {
  /** The file store's epoch (taken at its `open()`): a function, since it is known only then. */
  readonly epoch: number | (() => number);
  readonly metrics?: LeadershipMetrics;
  readonly onListenerError?: (error: unknown) => void;
}

/**
 * The state file's leadership: this process is the only one, so it is the leader from the
 * start (`isLeader()` and `confirm()` are true before `start()` too) until `stop()`.
 * `start()` still reports `onChange(true)` once, so the app wires both kinds the same way.
 * `requestCheck` and `announceRollout` call the local listeners directly (in a microtask, as
 * a message would arrive).
 */
export function createSoleLeadership(options: SoleLeadershipOptions): Leadership {
  const onListenerError = options.onListenerError ?? (() => undefined);
  const change = createListeners<boolean>(onListenerError);
  const checks = createListeners<string>(onListenerError);
  const announced = createListeners<string>(onListenerError);
  let leader = true;
  let started = false;
  return {
    isLeader: () => leader,
    confirm: async () => leader,
    epoch: () => (typeof options.epoch === 'function' ? options.epoch() : options.epoch),
    onChange: change.add,
    async requestCheck(runtime) {
      queueMicrotask(() => checks.emit(runtime));
    },
    onCheckRequested: checks.add,
    async announceRollout(id) {
      queueMicrotask(() => announced.emit(id));
    },
    onRolloutAnnounced: announced.add,
    health: () => ({ ok: true }),
    start() {
      if (started || !leader) return;
      started = true;
      options.metrics?.leader.set(1);
      change.emit(true);
    },
    async stop() {
      if (!leader) return;
      leader = false;
      options.metrics?.leader.set(0);
      if (started) change.emit(false);
    },
  };
}
