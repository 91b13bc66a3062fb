/**
 * admin-api's answers, parsed at the boundary. Contract: the product contract (SPEC), "apps/admin-api"
 * (`POST /admin/workspace-images/refresh`, `GET /admin/workspace-images`); additive fields
 * are allowed and kept.
 */
import { z } from 'zod';

/** `POST /admin/workspace-images/refresh` 200 body. */
export const RefreshResultSchema = z.looseObject({
  pulled: z.array(z.string()),
  failed: z.array(z.string()),
  recreated: z.array(z.string()),
  errors: z
    .array(z.looseObject({ code: z.string().optional(), message: z.string().optional() }))
    .optional(),
});
export type RefreshResult = z.infer<typeof RefreshResultSchema>;

/** One entry of `GET /admin/workspace-images`. */
export const WorkspaceImageSchema = z.looseObject({
  runtime: z.string(),
  image: z.string(),
  local: z.looseObject({ id: z.string(), digest: z.string().nullish() }).nullable(),
});
export type WorkspaceImage = z.infer<typeof WorkspaceImageSchema>;

export const WorkspaceImagesSchema = z.array(WorkspaceImageSchema);

/** An error body of admin-api: `{ error, code }` (SPEC "Round 2"), maybe with more fields. */
export const ErrorBodySchema = z.looseObject({
  error: z.string(),
  code: z.string().optional(),
});
