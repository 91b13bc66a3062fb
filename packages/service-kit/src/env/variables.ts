/**
 * Schemas for environment variables, shared by both services' config modules. Every helper
 * treats an empty or whitespace-only value as unset (env files, compose interpolation), and
 * every message says what was expected. Secret values are never echoed.
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Trimmed text, or `undefined` when unset or blank. */
export const optionalText = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z
    .string()
    .transform((value) => value.trim())
    .optional(),
);

/** A duration (`30s`, `5m`, `1h`, ms) → milliseconds, within `[minMs, maxMs]`. */
export function durationVariable(options: { fallback: string; minMs: number; maxMs?: number }) {
  const maxMs = options.maxMs ?? Number.MAX_SAFE_INTEGER;
  return optionalText.transform((value, ctx) => {
    const text = value ?? options.fallback;
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid duration ${JSON.stringify(text)}: use e.g. 30s, 5m, 1h or milliseconds`,
      });
      return z.NEVER;
    }
    if (ms < options.minMs || ms > maxMs) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(text)} is out of range: expected ${formatDuration(options.minMs)}${
          maxMs === Number.MAX_SAFE_INTEGER ? ' or more' : ` to ${formatDuration(maxMs)}`
        }`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

/** A whole number within `[min, max]`. */
export function integerVariable(options: { fallback: number; min: number; max: number }) {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return options.fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < options.min || n > options.max) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid value ${JSON.stringify(value)}: expected a whole number from ${options.min} to ${options.max}`,
      });
      return z.NEVER;
    }
    return n;
  });
}

/** `true` or `false`, case-insensitive. */
export function booleanVariable(fallback: boolean) {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const v = value.toLowerCase();
    if (v !== 'true' && v !== 'false') {
      ctx.addIssue({
        code: 'custom',
        message: `invalid value ${JSON.stringify(value)}: expected true or false`,
      });
      return z.NEVER;
    }
    return v === 'true';
  });
}

/** One of `values`, case-insensitive. */
export function choiceVariable<const T extends readonly [string, ...string[]]>(
  values: T,
  fallback: T[number],
) {
  return optionalText.transform((value, ctx): T[number] => {
    if (value === undefined) return fallback;
    const v = value.toLowerCase();
    if (!values.includes(v)) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid value ${JSON.stringify(value)}: expected one of ${values.join(', ')}`,
      });
      return z.NEVER;
    }
    return v as T[number];
  });
}

/** `LOG_LEVEL`: a pino level, default `info`. */
export const logLevelVariable = choiceVariable(LOG_LEVELS, 'info');

/** A secret: surrounding whitespace is dropped; whitespace inside is refused. Never echoed. */
export function secretVariable() {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return undefined;
    if (/\s/.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'must not contain whitespace' });
      return z.NEVER;
    }
    if (!/^[\x21-\x7e]+$/.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be printable ASCII' });
      return z.NEVER;
    }
    return value;
  });
}

/** An http(s) base URL without credentials; a trailing `/` is dropped. */
export function httpUrlVariable(options: { fallback?: string; credentialsHint: string }) {
  return optionalText.transform((value, ctx): string | undefined => {
    const text = (value ?? options.fallback)?.replace(/\/+$/, '');
    if (text === undefined) return undefined;
    const problem = httpUrlProblem(text, options.credentialsHint);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return text;
  });
}

/** Why `text` is not an http(s) URL without credentials, or `undefined` when it is one. */
export function httpUrlProblem(text: string, credentialsHint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `invalid URL ${JSON.stringify(text)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `invalid URL ${JSON.stringify(text)}: use http or https`;
  }
  // Never echo a URL that carries credentials.
  if (url.username || url.password) return `must not contain credentials; ${credentialsHint}`;
  return undefined;
}
