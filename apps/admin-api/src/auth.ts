import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Constant-time check of `Authorization: Bearer <token>`. Both sides are hashed first so the
 * comparison takes the same time whatever the presented length.
 */
export function createTokenCheck(expected: string): (header: string | undefined) => boolean {
  const expectedDigest = digest(expected);
  return (header) => {
    if (typeof header !== 'string') return false;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    const presented = match?.[1] ?? '';
    // Always compare, even when the header is malformed, so timing does not tell which.
    const equal = timingSafeEqual(digest(presented), expectedDigest);
    return equal && match !== null;
  };
}

/** onRequest hook: runs before body parsing and validation, so nothing precedes the check. */
export function createBearerAuthHook(expected: string) {
  const check = createTokenCheck(expected);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!check(request.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer realm="admin-api"');
      await reply.code(401).send({ error: 'unauthorized' });
    }
  };
}
