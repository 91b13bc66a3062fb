// One Stryker configuration for every package; each package's `stryker.config.mjs` only says
// what to mutate and where its score may not fall. `pnpm test:mutation` (scripts/mutation.mjs)
// runs them in turn from the repository root. See docs/mutation-testing.md.

/**
 * Stryker runs from the repository root, so its sandbox (`.stryker-tmp/sandbox-*`) is a slice of
 * the monorepo with the same layout: the package's own files plus the root files they extend
 * (`vitest.shared.ts`, `tsconfig.base.json`). Relative paths such as `../../vitest.shared.ts`
 * keep resolving, and Stryker symlinks every `node_modules` it finds (pnpm's per-package ones
 * included), so workspace dependencies resolve to the real packages' `src` through the
 * `@molecule/source` condition while only this package's copy is mutated. Never `inPlace`: other
 * work happens in the same tree at the same time.
 *
 * @param {{ dir: string, mutate: string[], thresholds: { high: number, low: number, break: number } }} options
 *   `dir` is the package directory relative to the root (`packages/registry`); `mutate` globs
 *   are relative to it.
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export function strykerConfig({ dir, mutate, thresholds }) {
  const name = dir.split('/').at(-1);
  return {
    packageManager: 'pnpm',
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner', '@stryker-mutator/typescript-checker'],
    // The package's vitest config without the `*.integration.test.ts` suites (real registries
    // and engines: minutes per run, and nothing there that the unit suites do not reach).
    vitest: { configFile: `${dir}/vitest.mutation.config.ts` },
    checkers: ['typescript'],
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    tsconfigFile: `${dir}/tsconfig.json`,
    coverageAnalysis: 'perTest',
    mutate: mutate.map((pattern) =>
      pattern.startsWith('!') ? `!${dir}/${pattern.slice(1)}` : `${dir}/${pattern}`,
    ),
    ignorePatterns: [
      '/**',
      `!/${dir}/**`,
      '!/package.json',
      '!/tsconfig.base.json',
      '!/vitest.shared.ts',
      `/${dir}/dist`,
      `/${dir}/.tmp`,
      `/${dir}/.data`,
      `/${dir}/coverage`,
      `/${dir}/test-report.json`,
      // Stryker leaves node_modules out by default; the `!` above brought the package's back in.
      // They are symlinked into the sandbox instead.
      'node_modules',
    ],
    incremental: false,
    concurrency: 2,
    timeoutMS: 10_000,
    thresholds,
    reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
    htmlReporter: { fileName: `reports/mutation/${name}/mutation.html` },
    jsonReporter: { fileName: `reports/mutation/${name}/mutation.json` },
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
  };
}
