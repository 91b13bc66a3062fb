// The real image registry for check-publish.sh: CNCF distribution with Bearer token auth
// (anonymous pulls refused, like GHCR or Docker Hub), started by @molecule/real-parts, with
// a small runnable image pushed as `<prefix>/workspace-template-<runtime>:latest` for every
// known runtime. Writes what the shell needs to a JSON file, then runs until SIGTERM/SIGINT
// and stops the registry and its token server.
//
//   node --import tsx --conditions=@molecule/source scripts/ship/real-registry.ts OUT.json
//
// OUT.json: { host, url, prefix, username, password, registryPid, templates: { <runtime>: digest } }
//
// real-parts and registry are workspace packages and this script is not one, so their
// sources are imported by path (real-parts is private and never built).
import { rename, writeFile } from 'node:fs/promises';
import { buildImage, pushImage, startDistribution } from '../../packages/real-parts/src/index.ts';
import { KNOWN_RUNTIMES, runtimeRepository } from '../../packages/registry/src/index.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: real-registry.ts OUT.json');
  process.exit(2);
}

// Not a secret: a throwaway account on a loopback registry that lives for one check.
const user = { username: 'molecule-release', password: `check-${process.pid}-${Date.now()}` };
const registry = await startDistribution({ auth: 'token', users: [user] });
let stopping: Promise<void> | undefined;
const stop = (code: number) => {
  stopping ??= registry.close().finally(() => process.exit(code));
  return stopping;
};
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

try {
  const prefix = `${registry.host}/molecule-ai`;
  const env = { MOLECULE_IMAGE_REGISTRY: prefix };
  const templates: Record<string, string> = {};
  for (const runtime of KNOWN_RUNTIMES) {
    const repository = runtimeRepository(runtime, env)!.slice(registry.host.length + 1);
    templates[runtime] = await pushImage({
      registryUrl: registry.url,
      repository,
      tag: 'latest',
      image: await buildImage({ salt: runtime }),
      credentials: user,
    });
  }
  const state = {
    host: registry.host,
    url: registry.url,
    prefix,
    username: user.username,
    password: user.password,
    registryPid: registry.pid,
    templates,
  };
  // Written whole, then renamed: the shell waits for the file and must never read half of it.
  await writeFile(`${out}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${out}.tmp`, out);
  console.log(
    `distribution at ${registry.url} (token auth, realm ${registry.tokenServer?.realm}), ` +
      `${KNOWN_RUNTIMES.length} template images under ${prefix}`,
  );
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  await stop(1);
}
