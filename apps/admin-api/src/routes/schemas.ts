/** JSON schemas shared by the routes (also what @fastify/swagger publishes). */

const names = { type: 'array', items: { type: 'string' } } as const;

export const localImage = {
  type: ['object', 'null'],
  properties: { id: { type: 'string' }, digest: { type: ['string', 'null'] } },
} as const;

export const refreshResult = {
  type: 'object',
  properties: {
    pulled: { ...names, description: 'Runtimes pulled, and present in the engine.' },
    failed: { ...names, description: 'Runtimes whose pull failed.' },
    recreated: { ...names, description: 'ws-* containers stopped and removed.' },
    unchanged: { ...names, description: 'ws-* containers already on the new image.' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          stage: { type: 'string' },
          runtime: { type: 'string' },
          container: { type: 'string' },
          code: { type: 'string' },
          message: { type: 'string' },
        },
      },
    },
    images: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { id: { type: 'string' }, digest: { type: ['string', 'null'] } },
      },
    },
  },
  required: ['pulled', 'failed', 'recreated'],
} as const;

export const refreshFailure = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
    partial_result: refreshResult,
  },
  required: ['error', 'code'],
} as const;
