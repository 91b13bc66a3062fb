/**
 * Benchmark-only: `count` synthetic references `<prefix>/synthetic-<n>:latest`, labelled with
 * the known runtimes in turn (the watch loop keys everything by the image reference).
 */
import { KNOWN_RUNTIMES } from '@molecule/registry';
import type { ImagewatchConfig, WatchTarget } from '../src/config.js';

export function syntheticTargets(config: ImagewatchConfig, count: number): WatchTarget[] {
  return Array.from({ length: count }, (_, n) => ({
    runtime: KNOWN_RUNTIMES[n % KNOWN_RUNTIMES.length]!,
    image: `${config.registry.prefix}/synthetic-${n}:latest`,
  }));
}
