/**
 * Benchmark-only entry: `imagewatch run` watching `BENCH_SYNTHETIC_REFS` synthetic references
 * instead of the runtimes. tick-bench.ts bundles it with tsup exactly like dist/main.js, so the
 * RSS it measures is the real service's plus the extra references.
 */
import { loadConfig } from '../src/config.js';
import { runServer } from '../src/server.js';
import { syntheticTargets } from './synthetic-targets.js';

const config = loadConfig();
const count = Number(process.env.BENCH_SYNTHETIC_REFS ?? 0);
const targets = count > 0 ? syntheticTargets(config, count) : config.targets;
runServer({ ...config, targets }, { stdout: process.stdout }).then((code) => {
  process.exitCode = code;
});
