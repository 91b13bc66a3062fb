/**
 * `imagewatch check [--json]`: one pass over every watched runtime's remote digest, for people
 * (a table) or scripts (JSON). Exit 0 when every runtime resolved, 1 otherwise.
 */
import type { Writable } from 'node:stream';
import { createSignatureVerifier, type SignatureVerifier } from '@molecule/image-signatures';
import { parseImageReference } from '@molecule/registry';
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
  /** With signature checks on: trusted, untrusted or unsigned, and why (or the registry error). */
  trust?: {
    status: 'trusted' | 'untrusted' | 'unsigned' | 'error';
    reason?: string;
    signers?: readonly string[];
    detail?: string;
  };
}

export async function runCheck(
  config: ImagewatchConfig,
  client: Pick<RegistryClient, 'getManifestDigest' | 'getManifest' | 'getBlob' | 'getReferrers'>,
  options: { json: boolean; stdout: Writable },
): Promise<number> {
  const limit = createLimiter(config.concurrency);
  const verifier =
    config.signatures.mode === 'off'
      ? undefined
      : createSignatureVerifier({ client, policy: config.signatures });
  const rows = await Promise.all(
    config.targets.map((target) =>
      limit(async (): Promise<CheckRow> => {
        try {
          const { digest, mediaType } = await client.getManifestDigest(target.image);
          const row: CheckRow = { runtime: target.runtime, image: target.image, digest, mediaType };
          if (verifier !== undefined) row.trust = await trustOf(verifier, target.image, digest);
          return row;
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

async function trustOf(
  verifier: SignatureVerifier,
  image: string,
  digest: string,
): Promise<NonNullable<CheckRow['trust']>> {
  const reference = parseImageReference(image);
  try {
    const verdict = await verifier.verify(`${reference.domain}/${reference.path}`, digest);
    return verdict.status === 'trusted'
      ? { status: 'trusted', signers: verdict.signers }
      : { status: verdict.status, reason: verdict.reason, detail: verdict.detail };
  } catch (error) {
    if (!isRegistryError(error)) throw error;
    return { status: 'error', reason: error.code, detail: error.message };
  }
}

/** The people's view of `check`: runtime, image, short digest or the error (and the trust). */
export function formatCheckTable(rows: readonly CheckRow[]): string {
  const withTrust = rows.some((row) => row.trust !== undefined);
  const trust = (row: CheckRow) =>
    row.trust === undefined
      ? ''
      : row.trust.status === 'trusted'
        ? `trusted (${row.trust.signers?.length ?? 0} key${row.trust.signers?.length === 1 ? '' : 's'})`
        : `${row.trust.status}: ${row.trust.reason}`;
  return formatTable([
    withTrust ? ['RUNTIME', 'IMAGE', 'TRUST', 'DIGEST'] : ['RUNTIME', 'IMAGE', 'DIGEST'],
    ...rows.map((row) => {
      const digest =
        row.digest !== undefined
          ? shortDigest(row.digest)
          : `error ${row.error?.code}: ${row.error?.message}`;
      return withTrust
        ? [row.runtime, row.image, trust(row), digest]
        : [row.runtime, row.image, digest];
    }),
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
