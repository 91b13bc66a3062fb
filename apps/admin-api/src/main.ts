import { createCredentialResolver } from '@molecule/registry-client';
import { buildApp } from './app.js';
import { type Config, describeConfig, loadConfig } from './config.js';
import { connectEngine } from './engine.js';
import { ConfigError } from './errors.js';

/** The bin: read config (exit 2 when bad), wire, listen, and close cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`admin-api: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const engine = await connectEngine(config.docker);
  const credentials = createCredentialResolver({ env: config.env });
  const app = await buildApp(config, {
    docker: engine.docker,
    credentials,
    ...(engine.apiVersion ? { engineApiVersion: engine.apiVersion } : {}),
  });
  app.log.info(
    { config: describeConfig(config), engineApiVersion: engine.apiVersion ?? 'unversioned' },
    'starting admin-api',
  );

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight work');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`admin-api: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
