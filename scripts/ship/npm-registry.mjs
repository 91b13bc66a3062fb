// The few npm registry HTTP calls check-publish.sh makes itself, against the verdaccio it
// started (https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md):
//
//   node scripts/ship/npm-registry.mjs wait <url>                     until GET /-/ping answers 200 (30 s)
//   node scripts/ship/npm-registry.mjs adduser <url> <name>           creates the user; prints its token
//   node scripts/ship/npm-registry.mjs republish <url> <name> <version>
//       PUTs the version that is already there once more, straight to the registry (npm
//       itself refuses before sending); exit 0 when the registry refuses it, printing its
//       status and message, 1 when it accepts the overwrite
//
// The password of `adduser` is read from the environment (NPM_USER_PASSWORD), the token of
// `republish` from NODE_AUTH_TOKEN: neither is ever an argument.
const [command, url, ...rest] = process.argv.slice(2);
const base = (url ?? '').replace(/\/+$/, '');
const die = (message) => {
  console.error(`npm-registry: ${message}`);
  process.exit(1);
};

async function wait() {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/-/ping`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  die(`GET ${base}/-/ping did not answer 200 within 30 s`);
}

async function adduser(name) {
  const password = process.env.NPM_USER_PASSWORD;
  if (!name || !password) die('usage: NPM_USER_PASSWORD=... npm-registry.mjs adduser <url> <name>');
  const response = await fetch(`${base}/-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name,
      password,
      type: 'user',
      roles: [],
      date: new Date().toISOString(),
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status !== 201 || typeof body.token !== 'string') {
    die(`PUT /-/user/org.couchdb.user:${name} → ${response.status} ${JSON.stringify(body)}`);
  }
  process.stdout.write(body.token);
}

async function republish(name, version) {
  const token = process.env.NODE_AUTH_TOKEN;
  if (!name || !version || !token) {
    die('usage: NODE_AUTH_TOKEN=... npm-registry.mjs republish <url> <name> <version>');
  }
  const headers = { authorization: `Bearer ${token}` };
  const path = `${base}/${name.replace('/', '%2f')}`;
  const packument = await fetch(path, { headers });
  if (packument.status !== 200) die(`GET ${path} → ${packument.status}`);
  const manifest = (await packument.json()).versions?.[version];
  if (!manifest) die(`${name}@${version} is not on ${base}`);
  const tarball = Buffer.from(
    await (await fetch(manifest.dist.tarball, { headers })).arrayBuffer(),
  );
  const filename = `${name}-${version}.tgz`;
  // The body `npm publish` sends: the version, its dist-tag and the tarball as an attachment.
  const response = await fetch(path, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({
      _id: name,
      name,
      'dist-tags': { latest: version },
      versions: { [version]: manifest },
      _attachments: {
        [filename]: {
          content_type: 'application/octet-stream',
          data: tarball.toString('base64'),
          length: tarball.length,
        },
      },
    }),
  });
  const text = await response.text();
  let message = text;
  try {
    message = JSON.parse(text).error ?? text;
  } catch {
    // not JSON: keep the text
  }
  if (response.ok)
    die(
      `PUT ${path} with ${version} again → ${response.status}: the registry accepted an overwrite`,
    );
  console.log(`${response.status} ${message}`);
}

if (!/^https?:\/\//.test(base)) die('usage: npm-registry.mjs wait|adduser|republish <url> ...');
if (command === 'wait') await wait();
else if (command === 'adduser') await adduser(rest[0]);
else if (command === 'republish') await republish(rest[0], rest[1]);
else die(`unknown command ${command}`);
