/**
 * Which registries have no referrers API. The OCI distribution spec has a registry that
 * supports `GET /v2/<name>/referrers/<digest>` answer 200 (an empty index when nothing refers
 * to the digest), so a 404 means the API is missing, for every repository of that host. It is
 * remembered for a while, so each verification of a new digest skips a request it knows will
 * fail (Debian's distribution 2.8, for one); a registry upgraded meanwhile is noticed once the
 * memo expires.
 */
export interface ReferrersSupport {
  /** True while `host` is known to answer the referrers API with 404. */
  knownAbsent(host: string): boolean;
  /** `host` answered the referrers API with 404. */
  markAbsent(host: string): void;
}

export function createReferrersSupport(
  options: { ttlMs?: number; now?: () => number } = {},
): ReferrersSupport {
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const absentUntil = new Map<string, number>();
  return {
    knownAbsent(host) {
      const until = absentUntil.get(host);
      if (until === undefined) return false;
      if (now() < until) return true;
      absentUntil.delete(host);
      return false;
    },
    markAbsent(host) {
      absentUntil.set(host, now() + ttlMs);
    },
  };
}
