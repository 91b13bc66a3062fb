/**
 * `POST /hooks/registry`: registry push notifications (the product contract (SPEC), "apps/imagewatch").
 *
 * - distribution envelopes and Harbor webhooks (Default or CloudEvents format, told apart by
 *   shape: formats/*.ts), `Authorization: Bearer <IMAGE_WATCH_HOOK_TOKEN>` (checked before
 *   the body is read);
 * - GitHub `package`/`registry_package` webhooks (recognised by `X-GitHub-Event` or
 *   `X-Hub-Signature-256`), HMAC-SHA256 of the raw body with `IMAGE_WATCH_GITHUB_SECRET`.
 *
 * 401 unauthenticated, 400 malformed, 413 too big; nothing changes on any of them. Accepted
 * events for a watched runtime answer 202 and trigger `checkNow(runtime)` after the answer;
 * everything else answers 200 with the reason. The plugin is only registered when a secret
 * is set, so a disabled endpoint is a plain 404.
 */

import { isBearerAuthorized } from '@molecule/service-kit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { HookDispatcher } from './dispatcher.js';
import { parseBearerDelivery } from './formats/bearer.js';
import { parseGitHubDelivery } from './formats/github.js';
import { isGitHubSignatureValid } from './github-signature.js';
import type { HookMatcher, HookParseResult, HookSource, HookVerdict } from './matcher.js';

export const HOOKS_PATH = '/hooks/registry';

/** Envelopes and GitHub package payloads are a few KiB; 256 KiB leaves room for large batches. */
export const DEFAULT_HOOK_BODY_LIMIT = 256 * 1024;

export interface HooksRouteOptions {
  hookToken: string | undefined;
  githubSecret: string | undefined;
  matcher: HookMatcher;
  dispatcher: Pick<HookDispatcher, 'trigger'>;
  metrics: Pick<Metrics, 'hookEvents'>;
  logger: Logger;
  bodyLimit?: number;
}

/** `outcome` label of `imagewatch_hook_events_total`. */
export type HookOutcome =
  | 'accepted'
  | `ignored_${Extract<HookVerdict, { outcome: 'ignored' }>['reason']}`
  | 'unauthorized'
  | 'malformed'
  | 'too_large';

/**
 * Who sent a request, as far as the headers tell: GitHub, or a bearer-token sender. Before the
 * body is read a bearer request counts as `distribution`; once parsed, its shape may say `harbor`.
 */
export function hookSourceOf(request: FastifyRequest): HookSource {
  const { headers } = request;
  return headers['x-github-event'] !== undefined || headers['x-hub-signature-256'] !== undefined
    ? 'github'
    : 'distribution';
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export const hooksRoute: FastifyPluginAsync<HooksRouteOptions> = async (app, options) => {
  const { matcher, dispatcher, metrics, logger } = options;
  const bodyLimit = options.bodyLimit ?? DEFAULT_HOOK_BODY_LIMIT;
  const log = logger.child({ route: HOOKS_PATH });
  const count = (source: HookSource, outcome: HookOutcome) =>
    metrics.hookEvents.inc({ source, outcome });

  // The HMAC is over the exact bytes GitHub sent: keep the raw body, parse JSON ourselves.
  // (Encapsulated: only this plugin's routes lose fastify's JSON parser.)
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    done(null, body);
  });

  // Errors (body too large, a body that cannot be read) are answered by the app's one error
  // handler; this hook only counts and logs them per source.
  app.addHook('onError', async (request, _reply, error) => {
    const source = hookSourceOf(request);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 413) {
      count(source, 'too_large');
      log.warn({ source, bodyLimit }, 'registry hook: body too large');
    } else if (status < 500) {
      count(source, 'malformed');
    } else {
      log.error({ source, err: error }, 'registry hook: failed');
    }
  });

  // A declared body over the limit is refused before it is read: the answer goes out while
  // Node discards the rest, so the sender sees a 413 instead of a connection reset (a GitHub
  // signature can only be checked once the body is read, so size comes first there).
  const tooLarge = (request: FastifyRequest, reply: FastifyReply, source: HookSource) => {
    const declared = Number(header(request, 'content-length'));
    if (!Number.isFinite(declared) || declared <= bodyLimit) return undefined;
    count(source, 'too_large');
    log.warn({ source, bodyLimit, declared }, 'registry hook: body too large');
    return reply
      .code(413)
      .send({ error: `body larger than ${bodyLimit} bytes`, code: 'PAYLOAD_TOO_LARGE' });
  };

  const unauthorized = (reply: FastifyReply, source: HookSource, why: string) => {
    count(source, 'unauthorized');
    log.warn({ source, why }, 'registry hook: unauthenticated request refused');
    if (source === 'distribution') reply.header('www-authenticate', 'Bearer realm="imagewatch"');
    return reply.code(401).send({ error: 'unauthorized', code: 'UNAUTHORIZED' });
  };

  app.post(
    HOOKS_PATH,
    {
      bodyLimit,
      // Before the body is read: a wrong bearer or a missing signature costs no body.
      onRequest: async (request, reply) => {
        const source = hookSourceOf(request);
        if (source === 'github') {
          if (options.githubSecret === undefined)
            return unauthorized(reply, source, 'IMAGE_WATCH_GITHUB_SECRET is not set');
          if (header(request, 'x-hub-signature-256') === undefined)
            return unauthorized(reply, source, 'no X-Hub-Signature-256');
          return tooLarge(request, reply, source);
        }
        if (options.hookToken === undefined)
          return unauthorized(reply, source, 'IMAGE_WATCH_HOOK_TOKEN is not set');
        if (!isBearerAuthorized(header(request, 'authorization'), options.hookToken))
          return unauthorized(reply, source, 'wrong or missing bearer token');
        return tooLarge(request, reply, source);
      },
    },
    async (request, reply) => {
      let source = hookSourceOf(request);
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (
        source === 'github' &&
        !isGitHubSignatureValid(raw, header(request, 'x-hub-signature-256'), options.githubSecret!)
      ) {
        return unauthorized(reply, source, 'X-Hub-Signature-256 does not match the body');
      }

      const malformed = (error: string) => {
        count(source, 'malformed');
        log.warn({ source, error }, 'registry hook: malformed body');
        return reply.code(400).send({ error, code: 'BAD_REQUEST' });
      };
      if (raw.length === 0) return malformed('empty body');
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        return malformed(
          source === 'github'
            ? 'body is not JSON (set the webhook content type to application/json)'
            : 'body is not JSON',
        );
      }
      let parsed: HookParseResult;
      if (source === 'github') {
        parsed = parseGitHubDelivery(header(request, 'x-github-event'), json, matcher);
      } else {
        const delivery = parseBearerDelivery(json, matcher);
        source = delivery.source;
        parsed = delivery.result;
      }
      if (!parsed.ok) return malformed(parsed.error);

      const checking = new Set<string>();
      for (const verdict of parsed.verdicts) {
        if (verdict.outcome === 'accepted') {
          count(source, 'accepted');
          checking.add(verdict.runtime);
          log.info(
            {
              source,
              runtime: verdict.runtime,
              repository: verdict.repository,
              tag: verdict.tag,
              // What the body claims; the check asks the registry itself.
              claimedDigest: verdict.claimedDigest?.slice(0, 19),
              delivery: header(request, 'x-github-delivery'),
            },
            'registry hook: push noticed, checking now',
          );
        } else {
          count(source, `ignored_${verdict.reason}`);
          log.debug(
            { source, reason: verdict.reason, detail: verdict.detail },
            'registry hook: event ignored',
          );
        }
      }
      // Answer first: the registry's delivery must not wait for the check.
      for (const runtime of checking) dispatcher.trigger(runtime);
      return reply.code(checking.size > 0 ? 202 : 200).send({
        status: checking.size > 0 ? 'accepted' : 'ignored',
        checking: [...checking],
        events: parsed.verdicts,
      });
    },
  );
};
