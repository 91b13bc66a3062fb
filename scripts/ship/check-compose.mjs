#!/usr/bin/env node
// Validates compose.yaml: `config` with every compose implementation installed (the docker
// compose plugin, Debian's docker-compose 1.29), and always a parse plus the deployment
// rules this project keeps:
//   - the Docker socket is mounted into admin-api only, reached through `group_add`;
//   - imagewatch keeps its state on a named volume;
//   - the admin token is a compose secret (MOLECULE_ADMIN_TOKEN_FILE), never an env value;
//   - both services follow MOLECULE_IMAGE_REGISTRY; no service is privileged or root;
//   - profile fleet: PostgreSQL's password is a secret file, every imagewatch replica reads
//     the same database URL secret, and a replica beyond the first refuses to start without it;
//   - every variable the file sets is documented in docs/deploy.md.
//
//   node scripts/ship/check-compose.mjs [compose.yaml]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const file = resolve(root, process.argv[2] ?? 'compose.yaml');
const problems = [];
const ok = (message) => console.log(`[ship] ok    ${message}`);

/**
 * A YAML parser without a dependency of our own: the `yaml` package the workspace already
 * has (through tsup/vite), else Python's PyYAML.
 */
async function loadYaml(text) {
  const fromRoot = createRequire(join(root, 'package.json'));
  const candidates = [() => fromRoot.resolve('yaml')];
  for (const host of ['tsup', 'vitest']) {
    candidates.push(() => createRequire(realpathSync(fromRoot.resolve(host))).resolve('yaml'));
  }
  for (const candidate of candidates) {
    let path;
    try {
      path = candidate();
    } catch {
      continue;
    }
    const { parse } = await import(path);
    return { value: parse(text, { merge: true }), parser: 'yaml (npm)' };
  }
  const python = spawnSync(
    'python3',
    ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: text, encoding: 'utf8' },
  );
  if (python.status === 0) return { value: JSON.parse(python.stdout), parser: 'PyYAML' };
  throw new Error('no YAML parser available (npm yaml or python3-yaml)');
}

/**
 * The compose implementations this machine has, newest first: the `docker compose` plugin
 * (v2), then Debian's `docker-compose` 1.29 (v1). v1 predates the top-level `name:` key, so
 * it gets a copy without it and the same name as its project name (`-p`); nothing else in
 * the file needs changing for it.
 */
function composeCommands() {
  const found = [];
  const v2 = spawnSync('docker', ['compose', 'version', '--short'], { encoding: 'utf8' });
  if (v2.status === 0)
    found.push({
      label: `docker compose ${v2.stdout.trim()}`,
      argv: ['docker', 'compose'],
      v1: false,
    });
  const v1 = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
  if (v1.status === 0)
    found.push({ label: `docker-compose ${v1.stdout.trim()}`, argv: ['docker-compose'], v1: true });
  return found;
}

/** `name:` removed for compose v1; returns the file to pass and the project name. */
function composeFileFor(command, file, dir, compose) {
  if (!command.v1) return { file, project: compose.name };
  const copy = join(dir, 'compose.v1.yaml');
  writeFileSync(copy, readFileSync(file, 'utf8').replace(/^name:.*\n/m, ''));
  return { file: copy, project: compose.name };
}

function composeConfig(compose) {
  const commands = composeCommands();
  if (commands.length === 0) {
    ok(
      'no compose implementation installed (docker compose plugin, docker-compose): structural checks only',
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'compose-check-'));
  try {
    const secret = join(dir, 'token');
    writeFileSync(secret, 'not-a-real-token\n', { mode: 0o600 });
    const env = { ...process.env, DOCKER_GID: '999', MOLECULE_ADMIN_TOKEN_SECRET_FILE: secret };
    for (const command of commands) {
      const target = composeFileFor(command, file, dir, compose);
      const run = (extraEnv) =>
        spawnSync(
          command.argv[0],
          [
            ...command.argv.slice(1),
            '-p',
            target.project,
            '-f',
            target.file,
            '--project-directory',
            root,
            'config',
            '--quiet',
          ],
          { env: extraEnv, encoding: 'utf8' },
        );
      const good = run(env);
      if (good.status !== 0) problems.push(`${command.label} config: ${good.stderr.trim()}`);
      else
        ok(
          `${command.label} config accepts ${file}${command.v1 ? ' (without the top-level name:, as -p)' : ''}`,
        );
      const fleet = run({ ...env, COMPOSE_PROFILES: 'fleet' });
      if (fleet.status !== 0)
        problems.push(`${command.label} config (profile fleet): ${fleet.stderr.trim()}`);
      else ok(`${command.label} config accepts the fleet profile`);
      const { DOCKER_GID: _unset, ...withoutGid } = env;
      if (run(withoutGid).status === 0)
        problems.push(`${command.label} config passes without DOCKER_GID`);
      else ok(`${command.label} config refuses to run without DOCKER_GID`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const asEnv = (environment) =>
  Array.isArray(environment)
    ? Object.fromEntries(environment.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')]))
    : (environment ?? {});
/** `source:target[:mode]`, where source may hold `${VAR:-default}` with colons of its own. */
function splitShortVolume(volume) {
  const parts = [];
  let depth = 0;
  let current = '';
  for (const char of volume) {
    if (char === '{') depth++;
    if (char === '}') depth--;
    if (char === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return { source: parts[0] ?? '', target: parts[1] ?? '' };
}
const mounts = (service) =>
  (service.volumes ?? []).map((v) =>
    typeof v === 'string'
      ? splitShortVolume(v)
      : { source: v.source ?? '', target: v.target ?? '' },
  );
const secretNames = (service) =>
  (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));

const text = readFileSync(file, 'utf8');
const { value: compose, parser } = await loadYaml(text);
ok(`${file} parses (${parser})`);
if (typeof compose?.name !== 'string' || compose.name === '') {
  problems.push('compose.yaml has no top-level name: (the project name every volume is named by)');
}
composeConfig(compose);

const services = compose?.services ?? {};
for (const name of ['admin-api', 'imagewatch']) {
  if (!services[name]) problems.push(`service ${name} is missing`);
}
const adminApi = services['admin-api'] ?? {};
const imagewatch = services.imagewatch ?? {};

/** Our images (admin-api, imagewatch and its replicas); the others (PostgreSQL) are third party. */
const ours = (service) => /MOLECULE_SERVICES_IMAGE_PREFIX/.test(String(service.image ?? ''));
for (const [name, service] of Object.entries(services)) {
  const socket = mounts(service).some((m) => /docker\.sock/.test(`${m.source} ${m.target}`));
  if (socket && name !== 'admin-api') problems.push(`${name} mounts the Docker socket`);
  if (service.privileged) problems.push(`${name} is privileged`);
  if (service.user !== undefined && /^(root|0)(:|$)/.test(String(service.user))) {
    problems.push(`${name} runs as root`);
  }
  const env = asEnv(service.environment);
  if (!ours(service)) {
    if ('POSTGRES_PASSWORD' in env)
      problems.push(`${name} sets POSTGRES_PASSWORD: use a secret file`);
    continue;
  }
  if ('MOLECULE_ADMIN_TOKEN' in env) {
    problems.push(`${name} sets MOLECULE_ADMIN_TOKEN in its environment: use the secret`);
  }
  if (!/\$\{MOLECULE_IMAGE_REGISTRY(:-[^}]*)?\}/.test(String(env.MOLECULE_IMAGE_REGISTRY ?? ''))) {
    problems.push(`${name}: MOLECULE_IMAGE_REGISTRY does not follow the variable`);
  }
  const tokenFile = String(env.MOLECULE_ADMIN_TOKEN_FILE ?? '');
  const secret = tokenFile.replace(/^\/run\/secrets\//, '');
  if (!tokenFile.startsWith('/run/secrets/') || !secretNames(service).includes(secret)) {
    problems.push(
      `${name}: MOLECULE_ADMIN_TOKEN_FILE must name one of its secrets under /run/secrets`,
    );
  } else if (!compose.secrets?.[secret]?.file) {
    problems.push(`secret ${secret} is not declared with a file`);
  }
}

if (!mounts(adminApi).some((m) => m.target === '/var/run/docker.sock')) {
  problems.push('admin-api does not mount the Docker socket at /var/run/docker.sock');
}
if (!(adminApi.group_add ?? []).some((g) => /DOCKER_GID/.test(String(g)))) {
  problems.push('admin-api reaches the socket without group_add: DOCKER_GID');
}
const state = mounts(imagewatch).find((m) => m.target === '/var/lib/imagewatch');
if (!state || !(state.source in (compose.volumes ?? {}))) {
  problems.push('imagewatch state is not on a named volume at /var/lib/imagewatch');
}
const stateFile = String(asEnv(imagewatch.environment).IMAGE_WATCH_STATE_FILE ?? '');
if (!stateFile.startsWith('/var/lib/imagewatch/')) {
  problems.push('IMAGE_WATCH_STATE_FILE is not on the state volume');
}
if (!/admin-api/.test(String(asEnv(imagewatch.environment).MOLECULE_ADMIN_API_URL ?? ''))) {
  problems.push('imagewatch does not talk to the admin-api service');
}

// Profile fleet: the database as a secret file, shared by every imagewatch replica.
const postgres = services.postgres;
if (postgres) {
  const password = String(asEnv(postgres.environment).POSTGRES_PASSWORD_FILE ?? '');
  if (
    !password.startsWith('/run/secrets/') ||
    !secretNames(postgres).includes(password.slice(13))
  ) {
    problems.push(
      'postgres: POSTGRES_PASSWORD_FILE must name one of its secrets under /run/secrets',
    );
  }
}
const replicas = Object.entries(services).filter(([, service]) =>
  /\/imagewatch:/.test(String(service.image ?? '')),
);
for (const [name, service] of replicas) {
  const env = asEnv(service.environment);
  const url = String(env.IMAGE_WATCH_DATABASE_URL_FILE ?? '');
  if ('IMAGE_WATCH_DATABASE_URL' in env) {
    problems.push(`${name} sets IMAGE_WATCH_DATABASE_URL (it holds a password): use the secret`);
  }
  if (!url.startsWith('/run/secrets/') || !secretNames(service).includes(url.slice(13))) {
    problems.push(`${name}: IMAGE_WATCH_DATABASE_URL_FILE must name one of its secrets`);
  }
  const required = String(env.MOLECULE_REQUIRED_SECRETS ?? '').split(',');
  if (name !== 'imagewatch' && !required.includes('IMAGE_WATCH_DATABASE_URL')) {
    problems.push(
      `${name}: a second replica must refuse to start without the database (MOLECULE_REQUIRED_SECRETS)`,
    );
  }
}
if (replicas.length > 1)
  ok(`profile fleet: ${replicas.length} imagewatch replicas share one database secret`);

// Every variable compose sets or interpolates is documented for operators.
const docs = readFileSync(join(root, 'docs/deploy.md'), 'utf8');
const variables = new Set([
  ...Object.values(services).flatMap((s) => Object.keys(asEnv(s.environment))),
  ...[...text.replace(/^\s*#.*$/gm, '').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]),
]);
const undocumented = [...variables].filter((v) => !docs.includes(`\`${v}\``));
if (undocumented.length > 0) {
  problems.push(`not documented in docs/deploy.md: ${undocumented.join(', ')}`);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`[ship] FAIL  ${problem}`);
  process.exit(1);
}
ok(
  `compose.yaml: socket for admin-api only, state volume, token as a secret, ${variables.size} variables documented`,
);
