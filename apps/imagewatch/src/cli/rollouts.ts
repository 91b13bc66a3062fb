/**
 * `imagewatch rollouts [--json]` and `imagewatch rollout <id> [resume|abort|rollback] [--json]`:
 * the rollouts API of the running service (`IMAGE_WATCH_URL`), with the admin token. A table
 * for people, JSON for scripts. Exit 0 on success, 1 when the service refused or failed.
 */
import type { Writable } from 'node:stream';
import type { ImagewatchConfig } from '../config.js';
import type { Rollout } from '../rollouts/rollout.js';
import { shortDigest } from '../watch/decide.js';
import { formatTable } from './check.js';

export interface RolloutsCommand {
  readonly id?: string;
  readonly action?: 'resume' | 'abort' | 'rollback';
  readonly json: boolean;
}

export async function runRollouts(
  config: ImagewatchConfig,
  command: RolloutsCommand,
  io: { stdout: Writable; stderr: Writable },
  fetchImpl: typeof fetch = fetch,
): Promise<number> {
  if (config.adminToken === undefined) {
    io.stderr.write('imagewatch: the rollouts API needs MOLECULE_ADMIN_TOKEN\n');
    return 2;
  }
  const base = config.serviceUrl.replace(/\/+$/, '');
  const path =
    command.id === undefined
      ? '/rollouts'
      : `/rollouts/${encodeURIComponent(command.id)}${command.action ? `/${command.action}` : ''}`;
  let response: Response;
  try {
    response = await fetchImpl(`${base}${path}`, {
      method: command.action === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${config.adminToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    io.stderr.write(
      `imagewatch: cannot reach the service at ${base} (${(error as Error).message}); set IMAGE_WATCH_URL\n`,
    );
    return 1;
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = body as { error?: string; code?: string; state?: string } | undefined;
    if (command.json) io.stdout.write(`${JSON.stringify(body ?? { error: text }, null, 2)}\n`);
    io.stderr.write(
      `imagewatch: ${response.status} ${error?.code ?? ''} ${error?.error ?? text}`.trim() + '\n',
    );
    return 1;
  }
  if (command.json) {
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(
    command.id === undefined
      ? formatRolloutList(body as Rollout[])
      : formatRollout(body as Rollout & { rollback?: Rollout }),
  );
  return 0;
}

/** One line per rollout: id, runtime, from → to, state, progress. */
export function formatRolloutList(rollouts: readonly Rollout[]): string {
  if (rollouts.length === 0) return 'no rollouts\n';
  return formatTable([
    ['ID', 'RUNTIME', 'FROM', 'TO', 'STATE', 'WAVE', 'HOSTS DONE', 'UPDATED'],
    ...rollouts.map((r) => [
      r.id,
      r.runtime,
      shortDigest(r.from),
      shortDigest(r.to),
      r.state,
      `${Math.min(r.wave + 1, r.waves.length)}/${r.waves.length}`,
      `${r.hosts.filter((h) => h.state === 'done').length}/${r.hosts.length}`,
      r.updated_at,
    ]),
  ]);
}

/** A rollout and its hosts, wave by wave. */
export function formatRollout(rollout: Rollout & { rollback?: Rollout }): string {
  const head = [
    `rollout  ${rollout.id} (${rollout.kind}${rollout.rollback_of ? ` of ${rollout.rollback_of}` : ''})`,
    `runtime  ${rollout.runtime}  ${rollout.reference}`,
    `digest   ${shortDigest(rollout.from)} → ${shortDigest(rollout.to)}`,
    `state    ${rollout.state}${rollout.replaced_by ? ` (by ${rollout.replaced_by})` : ''}${rollout.soak_until ? `, soaking until ${rollout.soak_until}` : ''}`,
    '',
  ].join('\n');
  const hosts = formatTable([
    ['WAVE', 'HOST', 'STATE', 'ATTEMPTS', 'UPDATED', 'ERROR'],
    ...rollout.waves.flatMap((wave, index) =>
      wave.map((name) => {
        const host = rollout.hosts.find((h) => h.name === name);
        return [
          String(index + 1),
          name,
          host?.state ?? '?',
          String(host?.attempts ?? 0),
          host?.updated_at ?? '',
          host?.error ?? '',
        ];
      }),
    ),
  ]);
  const back = rollout.rollback
    ? `\nrolled back by ${rollout.rollback.id} (${rollout.rollback.state})\n`
    : '';
  return `${head}\n${hosts}${back}`;
}
