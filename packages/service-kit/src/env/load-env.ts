import type { z } from 'zod';
import { ConfigError } from '../config-error.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the variables `schema` names out of `env`; the first bad one throws `ConfigError`
 * naming it. Only the keys of the schema are read.
 *
 * @example
 * const values = loadEnv(z.object({ PORT: integerVariable({ fallback: 8080, min: 0, max: 65535 }) }), process.env);
 */
export function loadEnv<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  env: Env,
): z.infer<z.ZodObject<Shape>> {
  const picked = Object.fromEntries(Object.keys(schema.shape).map((key) => [key, env[key]]));
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, issue?.message ?? 'invalid value');
  }
  return parsed.data;
}
