/** bin `admin-api`: read the configuration (exit 2 when bad), then run the server. */
import { isConfigError } from '@molecule/service-kit';
import { type Config, loadConfig } from './config.js';
import { runServer } from './server.js';

async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!isConfigError(error)) throw error;
    process.stderr.write(`admin-api: configuration error: ${error.message}\n`);
    return 2;
  }
  return runServer(config, { stdout: process.stdout });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `admin-api: unexpected failure: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
