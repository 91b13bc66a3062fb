#!/usr/bin/env node
// What `pnpm pack` would publish, checked for every publishable package (every workspace
// package without `private: true`, which is what changesets publishes): the tarball holds
// only dist/, package.json, README.md, LICENSE and CHANGELOG.md; every entry point the
// manifest names (exports, main, types, bin) is in it; and its package.json has no
// `workspace:` or `catalog:` specifier left (pnpm rewrites them on pack and publish).
//
//   node scripts/ship/pack-check.mjs              build, pack, check (self-test first)
//   node scripts/ship/pack-check.mjs --no-build   the packages are already built
//   node scripts/ship/pack-check.mjs --self-test  only the checker's own tests
//
// Exit 1 on any problem, with one line per problem.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(import.meta.dirname, '../..');
// The workspace's package folders (pnpm-workspace.yaml: packages/*, apps/*).
const WORKSPACE_DIRS = ['packages', 'apps'];

/**
 * Every package changesets would publish: each workspace package without `private: true`.
 * Read from the workspace, not listed here, so a new public package is checked from its
 * first commit.
 */
export function publishablePackages(root = ROOT) {
  return WORKSPACE_DIRS.flatMap((parent) =>
    readdirSync(join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${parent}/${entry.name}`)
      .filter((dir) => existsSync(join(root, dir, 'package.json'))),
  )
    .map((dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')),
    }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, version: manifest.version, dir }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const ALLOWED = [/^dist\//, /^package\.json$/, /^README\.md$/, /^LICENSE$/, /^CHANGELOG\.md$/];
const DEPENDENCY_FIELDS = [
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'optionalDependencies',
];
// Type declarations and their maps, whatever entry they belong to.
const DECLARATION = /\.d\.[mc]?ts(\.map)?$/;
// In-repo only: resolves to src/ for vitest and tsc, which is not published.
const SOURCE_CONDITION = '@molecule/source';

/** Every file path an `exports` value points at, with the condition path that leads there. */
function exportTargets(value, trail = []) {
  if (typeof value === 'string') return [{ path: value, trail }];
  if (Array.isArray(value)) return value.flatMap((v) => exportTargets(v, trail));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => exportTargets(v, [...trail, key]));
  }
  return [];
}

const normalise = (path) => path.replace(/^\.\//, '');

/**
 * The problems of one packed package: `files` are the tarball's paths without the
 * `package/` prefix, `manifest` its package.json. Pure, so it can be tested on its own.
 * Returns `{ problems, warnings }` (lists of strings).
 */
export function checkPackedPackage(name, files, manifest) {
  const problems = [];
  const warnings = [];
  const present = new Set(files);

  for (const file of files) {
    if (!ALLOWED.some((pattern) => pattern.test(file)))
      problems.push(`${name}: ${file} must not be published`);
  }
  if (manifest.private === true) problems.push(`${name}: package.json says private: true`);

  const entries = [];
  if (typeof manifest.main === 'string') entries.push({ path: manifest.main, via: 'main' });
  for (const field of ['types', 'typings']) {
    if (typeof manifest[field] === 'string') entries.push({ path: manifest[field], via: field });
  }
  const bin =
    typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [command, path] of Object.entries(bin)) entries.push({ path, via: `bin.${command}` });
  for (const { path, trail } of exportTargets(manifest.exports)) {
    const via = `exports[${trail.map((t) => JSON.stringify(t)).join('][')}]`;
    if (trail.includes(SOURCE_CONDITION)) {
      if (!present.has(normalise(path))) {
        problems.push(
          `${name}: ${via} → ${path} is not published (set publishConfig.exports without it)`,
        );
      }
      continue;
    }
    entries.push({ path, via });
  }
  if (entries.length === 0) problems.push(`${name}: no entry point (exports, main or bin)`);
  if (Object.keys(bin).length === 0 && !present.has('dist/index.js')) {
    problems.push(`${name}: dist/index.js is missing`);
  }
  for (const { path, via } of entries) {
    if (!present.has(normalise(path)))
      problems.push(`${name}: ${via} → ${path} is not in the tarball`);
  }
  // dist/ is published whole, and a published version can never be replaced: a file there
  // that no entry point explains (a copy left by a benchmark, an old build's output) would
  // ship for good. The shared tsup config bundles (no chunks), so dist holds the entry
  // points, their source maps and type declarations, nothing else.
  const entryFiles = new Set(entries.map(({ path }) => normalise(path)));
  for (const file of files.filter((f) => f.startsWith('dist/'))) {
    const explained =
      entryFiles.has(file) ||
      (file.endsWith('.map') && entryFiles.has(file.slice(0, -'.map'.length))) ||
      DECLARATION.test(file);
    if (!explained) {
      problems.push(
        `${name}: ${file} is no entry point, source map or declaration (left over in dist/?)`,
      );
    }
  }

  for (const field of DEPENDENCY_FIELDS) {
    for (const [dep, spec] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog):/.test(String(spec))) {
        problems.push(`${name}: ${field}.${dep} is still "${spec}"`);
      }
    }
  }
  return { problems, warnings };
}

function selfTest() {
  const good = {
    name: '@x/lib',
    version: '1.0.0',
    type: 'module',
    exports: {
      '.': {
        [SOURCE_CONDITION]: './src/index.ts',
        types: './dist/index.d.ts',
        default: './dist/index.js',
      },
    },
    types: './dist/index.d.ts',
    dependencies: { zod: '^4.1.0', '@x/core': '0.1.0' },
  };
  const goodFiles = ['dist/index.js', 'dist/index.d.ts', 'package.json', 'README.md'];
  const published = {
    ...good,
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
  };
  const ok = checkPackedPackage('@x/lib', goodFiles, published);
  assert.deepEqual(ok.problems, []);
  const withSource = checkPackedPackage('@x/lib', goodFiles, good);
  assert.equal(withSource.problems.length, 1, 'an unpublished source condition is a problem');

  const leaky = checkPackedPackage(
    '@x/lib',
    [...goodFiles, 'src/index.ts', 'test/a.test.ts', '.env'],
    published,
  );
  assert.equal(leaky.problems.length, 3);
  assert.match(leaky.problems[0], /src\/index\.ts must not be published/);

  const unbuilt = checkPackedPackage('@x/lib', ['package.json'], published);
  assert.ok(unbuilt.problems.some((p) => /dist\/index\.js is missing/.test(p)));
  assert.ok(
    unbuilt.problems.some((p) => /exports\["\."\]\["default"\] → \.\/dist\/index\.js/.test(p)),
  );

  const unresolved = checkPackedPackage('@x/lib', goodFiles, {
    ...published,
    dependencies: { '@x/core': 'workspace:*', zod: 'catalog:' },
    peerDependencies: { '@x/peer': 'workspace:^' },
  });
  assert.equal(unresolved.problems.length, 3);

  const app = { name: '@x/app', version: '1.0.0', bin: { app: './dist/main.js' } };
  assert.deepEqual(
    checkPackedPackage('@x/app', ['dist/main.js', 'package.json'], app).problems,
    [],
  );
  assert.equal(
    checkPackedPackage('@x/app', ['package.json', 'dist/cli.js'], app).problems.length,
    2,
    'a missing bin target, and a dist file no entry point explains',
  );
  const stray = checkPackedPackage(
    '@x/app',
    ['dist/main.js', 'dist/main.js.map', 'dist/main-before.js', 'package.json'],
    app,
  );
  assert.deepEqual(stray.problems, [
    '@x/app: dist/main-before.js is no entry point, source map or declaration (left over in dist/?)',
  ]);
  assert.equal(
    checkPackedPackage('@x/app', ['dist/main.js', 'package.json'], { ...app, private: true })
      .problems.length,
    1,
  );
}

function tarList(tarball) {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''));
}

function main(argv) {
  selfTest();
  console.log('[ship] ok    pack-check self-test');
  if (argv.includes('--self-test')) return 0;

  const root = ROOT;
  const publishable = publishablePackages(root);
  if (!argv.includes('--no-build')) {
    const filters = publishable.map((p) => `--filter=${p.name}`);
    execFileSync(
      'pnpm',
      ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }

  const out = mkdtempSync(join(tmpdir(), 'pack-check-'));
  let failed = 0;
  try {
    for (const { name, dir } of publishable) {
      const dest = join(out, name.replace(/[@/]/g, '_'));
      execFileSync('pnpm', ['pack', '--pack-destination', dest], {
        cwd: join(root, dir),
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const tarballs = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
      if (tarballs.length !== 1)
        throw new Error(`${name}: expected one tarball, found ${tarballs.length}`);
      const tarball = join(dest, tarballs[0]);
      const files = tarList(tarball);
      const manifest = JSON.parse(
        execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
      );
      const { problems, warnings } = checkPackedPackage(name, files, manifest);
      for (const warning of warnings) console.log(`[ship] warn  ${warning}`);
      for (const problem of problems) console.error(`[ship] FAIL  ${problem}`);
      failed += problems.length;
      if (problems.length === 0) {
        console.log(
          `[ship] ok    ${name}@${manifest.version}: ${files.length} files (${files.join(', ')})`,
        );
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  if (failed > 0) {
    console.error(`[ship] FAIL  pack-check: ${failed} problem(s)`);
    return 1;
  }
  console.log(
    `[ship] ok    pack-check: ${publishable.length} packages publish only what they should`,
  );
  return 0;
}

// Run as a script; imported (check-publish.sh reads publishablePackages), do nothing.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
