/**
 * The `pg` client library, loaded on first use rather than at start: importing it costs about
 * 15 MB of RSS, which a replica on the state file (no IMAGE_WATCH_DATABASE_URL) never needs.
 * `pg` is CommonJS, so a synchronous require keeps the factories that use it synchronous.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';

const loadCommonJs = createRequire(import.meta.url);
let loaded: typeof pg | undefined;

export function pgModule(): typeof pg {
  loaded ??= loadCommonJs('pg') as typeof pg;
  return loaded;
}
