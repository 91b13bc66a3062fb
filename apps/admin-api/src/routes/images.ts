import { KNOWN_RUNTIMES } from '@molecule/registry';
import { errorBodySchema } from '@molecule/service-kit';
import type { FastifyPluginAsync } from 'fastify';
import type { RefreshService } from '../refresh/service.js';
import { localImage } from './schemas.js';

export interface ImagesRoutesOptions {
  readonly service: RefreshService;
}

/** `GET /admin/workspace-images`: what the engine holds for each known runtime's image. */
export const imagesRoutes: FastifyPluginAsync<ImagesRoutesOptions> = async (app, { service }) => {
  app.get('/admin/workspace-images', {
    schema: {
      summary: "Each known runtime's image and the engine's local copy (null when absent)",
      security: [{ bearer: [] }],
      response: {
        200: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              runtime: { type: 'string', enum: [...KNOWN_RUNTIMES] },
              image: { type: 'string' },
              local: localImage,
            },
            required: ['runtime', 'image', 'local'],
          },
        },
        401: errorBodySchema,
        500: errorBodySchema,
        503: errorBodySchema,
      },
    },
    handler: async () => service.listLocalImages(),
  });
};
