// `pnpm test:mutation [package-dir ...]`: runs Stryker for each package that has a
// `stryker.config.mjs`, one after the other (a run uses two processes), then prints one line per
// package:
//
//   mutation: @molecule/registry score=97.1% killed=540 survived=14 timeout=1 no_coverage=0 time=312s
//
// and exits non-zero when a run failed or a score is below the package's `thresholds.break`.
// `pnpm test:mutation packages/registry` runs only that package; `MUTATION_CONCURRENCY=4` gives
// Stryker more processes than the configured 2 (half check types, half run tests). See
// docs/mutation-testing.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
/** Pure packages first: they are the fastest and the ones the apps build on. */
const ALL = [
  'packages/registry',
  'packages/registry-client',
  'packages/image-signatures',
  'apps/imagewatch',
  'apps/admin-api',
];

const requested = process.argv.slice(2).map((arg) => arg.replace(/\/+$/, ''));
const unknown = requested.filter((dir) => !ALL.includes(dir));
if (unknown.length > 0) {
  console.error(`mutation: unknown package ${unknown.join(', ')}; one of ${ALL.join(', ')}`);
  process.exit(2);
}
const dirs = requested.length > 0 ? requested : ALL;

/** Stryker's mutation score: detected (killed, timeout) over valid (not compile/runtime errors, not ignored). */
function summarize(report) {
  const counts = { Killed: 0, Survived: 0, Timeout: 0, NoCoverage: 0 };
  for (const file of Object.values(report.files)) {
    for (const mutant of file.mutants) {
      if (mutant.status in counts) counts[mutant.status] += 1;
    }
  }
  const valid = counts.Killed + counts.Survived + counts.Timeout + counts.NoCoverage;
  const score = valid === 0 ? 100 : ((counts.Killed + counts.Timeout) / valid) * 100;
  return { ...counts, score };
}

const lines = [];
let failed = false;
const started = Date.now();
for (const dir of dirs) {
  const configFile = join(dir, 'stryker.config.mjs');
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const { default: config } = await import(pathToFileURL(join(root, configFile)).href);
  const reportFile = join(root, config.jsonReporter.fileName);
  rmSync(reportFile, { force: true }); // never read a previous run's score
  const runStarted = Date.now();
  const concurrency = process.env.MUTATION_CONCURRENCY;
  const run = spawnSync(
    'pnpm',
    ['exec', 'stryker', 'run', configFile, ...(concurrency ? ['--concurrency', concurrency] : [])],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  const seconds = Math.round((Date.now() - runStarted) / 1000);
  if (run.status !== 0 && !existsSync(reportFile)) {
    lines.push(
      `mutation: ${pkg.name} failed (stryker exited ${run.status ?? run.signal}) time=${seconds}s`,
    );
    failed = true;
    continue;
  }
  const result = summarize(JSON.parse(readFileSync(reportFile, 'utf8')));
  const breakAt = config.thresholds.break ?? 0;
  const below = result.score < breakAt;
  if (below || run.status !== 0) failed = true;
  lines.push(
    `mutation: ${pkg.name} score=${result.score.toFixed(2)}% killed=${result.Killed} survived=${result.Survived} timeout=${result.Timeout} no_coverage=${result.NoCoverage} time=${seconds}s${below ? ` BELOW break=${breakAt}%` : ''}${run.status !== 0 && !below ? ` (stryker exited ${run.status})` : ''}`,
  );
}
console.log('');
for (const line of lines) console.log(line);
console.log(`mutation: total time=${Math.round((Date.now() - started) / 1000)}s`);
process.exit(failed ? 1 : 0);
