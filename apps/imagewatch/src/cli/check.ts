/**
 * `imagewatch check [--json]`: one pass over every watched runtime's remote digest, for people
 * (a table) or scripts (JSON). Exit 0 when every runtime resolved, 1 otherwise.
 */
import type { Writable } from 'node:stream';
import { isRegistryError, type RegistryClient } from '@molecule/registry-client';
import { createLimiter } from '@molecule/service-kit';
import type { ImagewatchConfig } from '../config.js';
import { shortDigest } from '../watch/decide.js';

export interface CheckRow {
  runtime: string;
  image: string;
  digest?: string;
  mediaType?: string;
  error?: { code: string; message: string };
}

export async function runCheck(
  config: ImagewatchConfig,
  client: Pick<RegistryClient, 'getManifestDigest'>,
  options: { json: boolean; stdout: Writable },
): Promise<number> {
  const limit = createLimiter(config.concurrency);
  const rows = await Promise.all(
    config.targets.map((target) =>
      limit(async (): Promise<CheckRow> => {
        try {
          const { digest, mediaType } = await client.getManifestDigest(target.image);
          return { runtime: target.runtime, image: target.image, digest, mediaType };
        } catch (error) {
          if (!isRegistryError(error)) throw error;
          return {
            runtime: target.runtime,
            image: target.image,
            error: { code: error.code, message: error.message },
          };
        }
      }),
    ),
  );
  const ok = rows.every((row) => row.digest !== undefined);
  options.stdout.write(
    options.json
      ? `${JSON.stringify({ ok, registry: config.registry.host, prefix: config.registry.prefix, results: rows }, null, 2)}\n`
      : formatCheckTable(rows),
  );
  return ok ? 0 : 1;
}

/** The people's view of `check`: runtime, image, short digest or the error. */
export function formatCheckTable(rows: readonly CheckRow[]): string {
  return formatTable([
    ['RUNTIME', 'IMAGE', 'DIGEST'],
    ...rows.map((row) => [
      row.runtime,
      row.image,
      row.digest !== undefined
        ? shortDigest(row.digest)
        : `error ${row.error?.code}: ${row.error?.message}`,
    ]),
  ]);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(lines: readonly (readonly string[])[]): string {
  const columns = Math.max(...lines.map((line) => line.length));
  const widths = Array.from({ length: columns - 1 }, (_, column) =>
    Math.max(...lines.map((line) => (line[column] ?? '').length)),
  );
  return `${lines
    .map((line) =>
      line
        .map((cell, column) => (column < widths.length ? cell.padEnd(widths[column]!) : cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
