import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Env } from './env.js';
import { RealPartsError } from './errors.js';

/** Debian package that provides each binary the harness may run. */
const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  'docker-registry': 'docker-registry',
  dockerd: 'docker.io',
  docker: 'docker.io',
  containerd: 'containerd',
  runc: 'runc',
  htpasswd: 'apache2-utils',
  openssl: 'openssl',
  busybox: 'busybox-static',
  skopeo: 'skopeo',
  tar: 'tar',
  setpriv: 'util-linux',
  ipcrm: 'util-linux',
  postgres: 'postgresql-15',
  initdb: 'postgresql-15',
  pg_ctl: 'postgresql-15',
};

/** sbin directories are searched too: `dockerd` lives in /usr/sbin and PATH may omit it. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * Debian keeps the PostgreSQL server binaries off PATH, in `/usr/lib/postgresql/<major>/bin`
 * (only the client wrappers are in /usr/bin); these names are looked for there too.
 */
const POSTGRES_SERVER_BINARIES = new Set(['postgres', 'initdb', 'pg_ctl']);
const POSTGRES_LIB_DIR = '/usr/lib/postgresql';

/** `<root>/<major>/bin` for each installed PostgreSQL major, newest first. */
export function postgresBinDirs(root = POSTGRES_LIB_DIR): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join(root, major, 'bin'));
}

/** True when a missing real part must fail the test instead of skipping it (CI=true). */
export function realPartsRequired(env: Env = process.env): boolean {
  return env.CI === 'true';
}

/**
 * Absolute path of `binary` on PATH (plus the sbin directories, and for the PostgreSQL
 * server binaries the newest `/usr/lib/postgresql/<major>/bin`), or undefined.
 */
export function findBinary(binary: string, env: Env = process.env): string | undefined {
  const dirs = [
    ...(env.PATH ?? '').split(delimiter).filter(Boolean),
    ...EXTRA_DIRS,
    ...(POSTGRES_SERVER_BINARIES.has(binary) ? postgresBinDirs() : []),
  ];
  for (const dir of dirs) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Reason text naming the missing binaries and the Debian packages to install, or undefined
 * when every binary is present.
 *
 * @example
 * missingRealParts(['docker-registry']) // undefined, or
 * // 'missing docker-registry (apt-get install docker-registry)'
 */
export function missingRealParts(
  binaries: readonly string[],
  env: Env = process.env,
): string | undefined {
  const missing = binaries.filter((binary) => findBinary(binary, env) === undefined);
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((binary) => DEBIAN_PACKAGES[binary] ?? binary))];
  return `missing ${missing.join(', ')} (apt-get install ${packages.join(' ')})`;
}

export interface RealPartsGate {
  /** Pass to `describe.skipIf(gate.skip)`. */
  readonly skip: boolean;
  readonly reason: string | undefined;
}

/**
 * Decide whether a suite that needs real binaries runs. Missing binaries skip the suite with
 * a reason locally and throw under CI=true, so CI never passes by skipping.
 *
 * @example
 * const gate = realPartsGate(['dockerd', 'docker-registry']);
 * describe.skipIf(gate.skip)(`pull from a real registry ${gate.reason ?? ''}`, () => { ... });
 */
export function realPartsGate(binaries: readonly string[], env: Env = process.env): RealPartsGate {
  const reason = missingRealParts(binaries, env);
  if (reason === undefined) return { skip: false, reason: undefined };
  if (realPartsRequired(env)) {
    throw new RealPartsError('MISSING_BINARY', `real parts required (CI=true) but ${reason}`);
  }
  console.warn(`skipping real-parts tests: ${reason}`);
  return { skip: true, reason: `(skipped: ${reason})` };
}
