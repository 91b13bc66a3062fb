// Preloaded with `node --import` in the service images: the compose/Swarm/Kubernetes way of
// passing secrets as files. For each secret variable NAME, `NAME_FILE=/run/secrets/x` sets
// NAME to the file's content (one trailing newline removed) before the service reads its
// environment. The services themselves read only NAME.
//
// Setting both NAME and NAME_FILE is a configuration error (exit 2, like the services' own
// configuration errors): which one wins would be a guess. Values are never printed.
import { readFileSync } from 'node:fs';

const SECRET_VARIABLES = [
  'MOLECULE_ADMIN_TOKEN',
  'MOLECULE_REGISTRY_PASSWORD',
  'GHCR_TOKEN',
  'IMAGE_WATCH_HOOK_TOKEN',
  'IMAGE_WATCH_GITHUB_SECRET',
];

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
  if (value === '') fail(`${name}_FILE=${file} is empty`);
  process.env[name] = value;
}
