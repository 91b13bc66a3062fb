/**
 * `IMAGE_WATCH_ROLLOUT_WAVES`: cumulative wave sizes, each a host count or a percentage of the
 * hosts (`1,50%,100%`: one host, then half, then all). A percentage is rounded up; a count
 * larger than the hosts means all of them; each wave must add at least one host. When the
 * last size does not reach every host, a final wave takes the rest (a rollout always ends on
 * every host). Pure: no I/O.
 */

export type WaveSize =
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'percent'; readonly percent: number };

/** The sizes of `text`, or why they are not sizes. */
export function parseWaveSizes(
  text: string,
): { ok: true; sizes: WaveSize[] } | { ok: false; problem: string } {
  const entries = text.split(',').map((entry) => entry.trim());
  const sizes: WaveSize[] = [];
  for (const entry of entries) {
    const percent = /^(\d+)%$/.exec(entry);
    if (percent) {
      const value = Number(percent[1]);
      if (value === 0) return { ok: false, problem: `"${entry}": a wave of 0% adds no host` };
      if (value > 100) return { ok: false, problem: `"${entry}": more than 100% of the hosts` };
      sizes.push({ kind: 'percent', percent: value });
      continue;
    }
    if (/^\d+$/.test(entry)) {
      const value = Number(entry);
      if (value === 0) return { ok: false, problem: `"${entry}": a wave of 0 hosts adds no host` };
      sizes.push({ kind: 'count', count: value });
      continue;
    }
    return {
      ok: false,
      problem: `"${entry}" is not a host count or a percentage (e.g. 1,50%,100%)`,
    };
  }
  return { ok: true, sizes };
}

/** The cumulative host count each size means for `hostCount` hosts. */
export function cumulativeCounts(sizes: readonly WaveSize[], hostCount: number): number[] {
  return sizes.map((size) =>
    size.kind === 'count'
      ? Math.min(size.count, hostCount)
      : Math.ceil((size.percent * hostCount) / 100),
  );
}

/**
 * The waves for `hosts` (in configured order): `[[a], [b, c], [d]]`. Sizes that do not grow
 * are a problem; a last size below every host gets a final wave with the rest.
 */
export function planWaves(
  hosts: readonly string[],
  sizes: readonly WaveSize[],
): { ok: true; waves: string[][] } | { ok: false; problem: string } {
  const counts = cumulativeCounts(sizes, hosts.length);
  const waves: string[][] = [];
  let covered = 0;
  for (const [index, count] of counts.entries()) {
    if (count <= covered) {
      return {
        ok: false,
        problem: `wave ${index + 1} (${describe(sizes[index]!)} = ${count} of ${hosts.length} hosts) adds no host to the ${covered} before it`,
      };
    }
    waves.push(hosts.slice(covered, count));
    covered = count;
  }
  if (covered < hosts.length) waves.push(hosts.slice(covered));
  return { ok: true, waves };
}

function describe(size: WaveSize): string {
  return size.kind === 'count' ? String(size.count) : `${size.percent}%`;
}
