// A consumer of the published packages. check-publish.sh copies it into a scratch directory
// outside the workspace, where the packages were `npm install`ed from the internal npm
// registry, and runs it there: the imports below can only be the installed tarballs.
//
//   MOLECULE_IMAGE_REGISTRY=<prefix> MOLECULE_REGISTRY_USERNAME=... MOLECULE_REGISTRY_PASSWORD=... \
//     node publish-consumer.mjs expected.json
//
// expected.json: { "services": [{ "app", "version", "digest" }], "templates": { "<runtime>": "<digest>" } }
// (what push-images.sh and the registry helper pushed). Every image reference is built with
// @molecule/registry from MOLECULE_IMAGE_REGISTRY alone, and its digest resolved through
// @molecule/registry-client (token auth, the credentials from the environment); each must
// equal the digest that was pushed. Exit 0 when all do, 1 otherwise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as signatures from '@molecule/image-signatures';
import {
  KNOWN_RUNTIMES,
  parseImageReference,
  registryPrefix,
  runtimeImage,
} from '@molecule/registry';
import {
  createCredentialResolver,
  createRegistryClient,
  isRegistryError,
} from '@molecule/registry-client';

const LIBRARIES = ['@molecule/registry', '@molecule/registry-client', '@molecule/image-signatures'];

const expected = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const installed = join(process.cwd(), 'node_modules');
let failures = 0;
const fail = (message) => {
  failures++;
  console.error(`consumer: FAIL ${message}`);
};

for (const name of LIBRARIES) {
  const path = fileURLToPath(import.meta.resolve(name));
  if (!path.startsWith(`${installed}/`))
    fail(`${name} resolved to ${path}, not under ${installed}`);
}
if (Object.keys(signatures).length === 0) fail('@molecule/image-signatures exports nothing');

const env = {
  MOLECULE_IMAGE_REGISTRY: process.env.MOLECULE_IMAGE_REGISTRY,
  MOLECULE_REGISTRY_USERNAME: process.env.MOLECULE_REGISTRY_USERNAME,
  MOLECULE_REGISTRY_PASSWORD: process.env.MOLECULE_REGISTRY_PASSWORD,
};
const prefix = registryPrefix(env);
const wanted = [];
for (const { app, version, digest } of expected.services) {
  for (const tag of [version, 'latest']) wanted.push({ ref: `${prefix}/${app}:${tag}`, digest });
  // A pinned reference resolves to itself, and only if the registry holds it.
  wanted.push({ ref: `${prefix}/${app}@${digest}`, digest });
}
for (const runtime of KNOWN_RUNTIMES) {
  if (expected.templates[runtime] === undefined) fail(`no template image pushed for ${runtime}`);
  else wanted.push({ ref: runtimeImage(runtime, env), digest: expected.templates[runtime] });
}

const client = createRegistryClient({ credentials: createCredentialResolver({ env }), env });
try {
  for (const { ref, digest } of wanted) {
    const pinned = parseImageReference(ref).digest;
    if (pinned !== undefined && pinned !== digest) fail(`${ref} parses to digest ${pinned}`);
    try {
      const resolved = await client.getManifestDigest(ref);
      if (resolved.digest === digest) {
        console.log(
          `consumer: ${ref} → ${digest.slice(0, 19)}… (${resolved.mediaType}), as pushed`,
        );
      } else {
        fail(`${ref} → ${resolved.digest}, but ${digest} was pushed`);
      }
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      fail(`${ref}: ${error.code}: ${error.message}`);
    }
  }
} finally {
  await client.close();
}
if (failures > 0) process.exit(1);
console.log(
  `consumer: ${wanted.length} references from @molecule/registry resolved by @molecule/registry-client, each the pushed digest`,
);
