import type { FastifyReply, FastifyRequest } from 'fastify';
import { isBearerAuthorized } from '../bearer.js';

/**
 * An `onRequest` hook requiring `Authorization: Bearer <token>`: it runs before body parsing
 * and validation, so nothing precedes the check. 401 `{ error, code: 'UNAUTHORIZED' }`.
 */
export function bearerAuthHook(token: string, realm: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!isBearerAuthorized(request.headers.authorization, token)) {
      reply.header('www-authenticate', `Bearer realm="${realm}"`);
      await reply.code(401).send({ error: 'unauthorized', code: 'UNAUTHORIZED' });
    }
  };
}
