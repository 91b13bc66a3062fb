// HEALTHCHECK for the service images: the images have no curl or shell, only node.
//
//   node healthcheck.mjs <VAR_PREFIX> <default port> [path]
//   node healthcheck.mjs ADMIN_API 8080            → GET http://127.0.0.1:$ADMIN_API_PORT/healthz
//   node healthcheck.mjs IMAGE_WATCH 9090 /metrics
//
// Reads <VAR_PREFIX>_HOST and <VAR_PREFIX>_PORT from the container's environment (the same
// variables the service listens on); a wildcard listen address is probed on loopback.
// Exit 0 on a 2xx answer within the timeout, 1 otherwise (what Docker expects).
const [prefix, defaultPort, path = '/healthz'] = process.argv.slice(2);
if (!prefix || !defaultPort) {
  process.stderr.write('usage: healthcheck.mjs <VAR_PREFIX> <default port> [path]\n');
  process.exit(1);
}
const TIMEOUT_MS = Number(process.env.HEALTHCHECK_TIMEOUT_MS ?? 4000);
const port = (process.env[`${prefix}_PORT`] ?? '').trim() || defaultPort;
const configured = (process.env[`${prefix}_HOST`] ?? '').trim();
const host =
  configured === '' || configured === '0.0.0.0'
    ? '127.0.0.1'
    : configured === '::' || configured === '[::]'
      ? '[::1]'
      : configured.includes(':') && !configured.startsWith('[')
        ? `[${configured}]`
        : configured;
const url = `http://${host}:${port}${path}`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  await response.arrayBuffer();
  if (!response.ok) {
    process.stderr.write(`unhealthy: GET ${url} → ${response.status}\n`);
    process.exit(1);
  }
  process.stdout.write(`healthy: GET ${url} → ${response.status}\n`);
  process.exit(0);
} catch (error) {
  process.stderr.write(
    `unhealthy: GET ${url}: ${error?.cause?.code ?? error?.cause?.message ?? error?.message ?? error}\n`,
  );
  process.exit(1);
}
