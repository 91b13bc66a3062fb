import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realPartsRequired } from './binaries.js';
import type { Env } from './env.js';

/** Variable naming the directory of real cosign artifacts (`shared/fixtures/cosign`). */
export const COSIGN_FIXTURES_VARIABLE = 'MOLECULE_COSIGN_FIXTURES';

const DEFAULT_FIXTURES = '/work/shared/fixtures/cosign';
const FIXTURES_UNDER_SHARED = join('shared', 'fixtures', 'cosign');

/**
 * Where the real cosign fixtures are, or `undefined`: `$MOLECULE_COSIGN_FIXTURES` when set
 * (and only it, so a wrong setting shows); else the first `shared/fixtures/cosign` beside the
 * repository root or one of its parents; else `/work/shared/fixtures/cosign`. A directory
 * counts when it has `index.json`. The fixtures stay outside the repository (their sources'
 * licenses differ); tests read them in place.
 */
export function resolveCosignFixtures(env: Env = process.env): string | undefined {
  const configured = env[COSIGN_FIXTURES_VARIABLE]?.trim();
  const candidates = configured ? [configured] : [...besideRepositoryRoot(), DEFAULT_FIXTURES];
  return candidates.find((dir) => existsSync(join(dir, 'index.json')));
}

/** `<ancestor>/shared/fixtures/cosign` for each ancestor of the repository root, nearest first. */
function besideRepositoryRoot(): string[] {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'pnpm-workspace.yaml'))) {
    if (dirname(root) === root) return [];
    root = dirname(root);
  }
  const candidates: string[] = [];
  for (let dir = root; dirname(dir) !== dir; dir = dirname(dir)) {
    candidates.push(join(dirname(dir), FIXTURES_UNDER_SHARED));
  }
  return candidates;
}

export interface CosignFixturesGate {
  /** The fixture directory, when found. */
  readonly dir: string | undefined;
  /** Pass to `describe.skipIf`: true when missing and not under CI. */
  readonly skip: boolean;
  /** Why they are missing, for the test title and the CI failure. */
  readonly reason: string | undefined;
}

/**
 * Skip locally, fail in CI: under `CI=true` a missing fixture directory does not skip, so
 * the suite's first test (`expect(gate.dir, gate.reason).toBeDefined()`) fails.
 *
 * @example
 * const fixtures = cosignFixturesGate();
 * describe.skipIf(fixtures.skip)(`real cosign artifacts ${fixtures.reason ?? ''}`, () => { ... });
 */
export function cosignFixturesGate(env: Env = process.env): CosignFixturesGate {
  const dir = resolveCosignFixtures(env);
  if (dir !== undefined) return { dir, skip: false, reason: undefined };
  return {
    dir,
    skip: !realPartsRequired(env),
    reason: `(cosign fixtures not found: set ${COSIGN_FIXTURES_VARIABLE} or check out shared/fixtures/cosign beside the repository)`,
  };
}
