// Preloaded with `node --import` in the service images: the compose/Swarm/Kubernetes way of
// passing secrets as files. For each secret variable NAME, `NAME_FILE=/run/secrets/x` sets
// NAME to the file's content (one trailing newline removed) before the service reads its
// environment. The services themselves read only NAME.
//
// Setting both NAME and NAME_FILE is a configuration error (exit 2, like the services' own
// configuration errors): which one wins would be a guess. Values are never printed.
//
// IMAGE_WATCH_DATABASE_URL may come from an empty file (compose mounts /dev/null when no
// database is configured): then it stays unset and imagewatch uses its state file. A service
// that must not run without one lists it in MOLECULE_REQUIRED_SECRETS (comma-separated).
import { readFileSync } from 'node:fs';

const SECRET_VARIABLES = [
  'MOLECULE_ADMIN_TOKEN',
  'MOLECULE_REGISTRY_PASSWORD',
  'GHCR_TOKEN',
  'IMAGE_WATCH_HOOK_TOKEN',
  'IMAGE_WATCH_GITHUB_SECRET',
  'IMAGE_WATCH_DATABASE_URL',
];
/** An empty file leaves these unset instead of failing. */
const EMPTY_MEANS_UNSET = new Set(['IMAGE_WATCH_DATABASE_URL']);
const REQUIRED = new Set(
  (process.env.MOLECULE_REQUIRED_SECRETS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== ''),
);

function fail(message) {
  process.stderr.write(`configuration error: ${message}\n`);
  process.exit(2);
}

for (const name of SECRET_VARIABLES) {
  const file = process.env[`${name}_FILE`];
  if (file === undefined || file === '') continue;
  if (process.env[name] !== undefined && process.env[name] !== '') {
    fail(`set ${name} or ${name}_FILE, not both`);
  }
  let value;
  try {
    value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    fail(
      `${name}_FILE=${file} cannot be read (${error.code ?? error.message}); the service runs as uid ${process.getuid?.()}`,
    );
  }
  if (value === '' && EMPTY_MEANS_UNSET.has(name) && !REQUIRED.has(name)) continue;
  if (value === '') fail(`${name}_FILE=${file} is empty`);
  process.env[name] = value;
}

for (const name of REQUIRED) {
  if ((process.env[name] ?? '') === '') {
    fail(`${name} (or ${name}_FILE) is required by this service (MOLECULE_REQUIRED_SECRETS)`);
  }
}
