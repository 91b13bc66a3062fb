import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isConfigError } from '../config-error.js';
import { loadEnv } from './load-env.js';
import {
  booleanVariable,
  choiceVariable,
  durationVariable,
  httpUrlVariable,
  integerVariable,
  logLevelVariable,
  optionalText,
  secretVariable,
} from './variables.js';

const schema = z.object({
  NAME: optionalText,
  INTERVAL: durationVariable({ fallback: '5m', minMs: 1_000, maxMs: 3_600_000 }),
  COUNT: integerVariable({ fallback: 3, min: 1, max: 10 }),
  FLAG: booleanVariable(false),
  MODE: choiceVariable(['enforce', 'warn', 'off'], 'off'),
  LOG_LEVEL: logLevelVariable,
  SECRET: secretVariable(),
  URL: httpUrlVariable({ fallback: 'http://127.0.0.1:8080', credentialsHint: 'use the token' }),
});

function problem(env: Record<string, string>): { variable: string; message: string } {
  try {
    loadEnv(schema, env);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    return { variable: error.variable, message: error.message };
  }
  throw new Error('expected a ConfigError');
}

describe('loadEnv with the shared variable schemas', () => {
  it('applies the defaults, also for empty and blank values', () => {
    const expected = {
      NAME: undefined,
      INTERVAL: 300_000,
      COUNT: 3,
      FLAG: false,
      MODE: 'off',
      LOG_LEVEL: 'info',
      SECRET: undefined,
      URL: 'http://127.0.0.1:8080',
    };
    expect(loadEnv(schema, {})).toEqual(expected);
    expect(
      loadEnv(schema, Object.fromEntries(Object.keys(expected).map((key) => [key, '  ']))),
    ).toEqual(expected);
  });

  it('parses and trims values', () => {
    expect(
      loadEnv(schema, {
        NAME: ' a ',
        INTERVAL: '30s',
        COUNT: ' 10 ',
        FLAG: 'TRUE',
        MODE: 'Warn',
        LOG_LEVEL: 'DEBUG',
        SECRET: ' s3cret ',
        URL: 'https://admin.example.com:8443/',
      }),
    ).toEqual({
      NAME: 'a',
      INTERVAL: 30_000,
      COUNT: 10,
      FLAG: true,
      MODE: 'warn',
      LOG_LEVEL: 'debug',
      SECRET: 's3cret',
      URL: 'https://admin.example.com:8443',
    });
  });

  it.each([
    [{ INTERVAL: 'soon' }, 'INTERVAL', /invalid duration "soon"/],
    [{ INTERVAL: '500ms' }, 'INTERVAL', /out of range: expected 1s to 1h/],
    [{ INTERVAL: '2h' }, 'INTERVAL', /out of range/],
    [{ COUNT: '0' }, 'COUNT', /whole number from 1 to 10/],
    [{ COUNT: '1.5' }, 'COUNT', /whole number/],
    [{ COUNT: 'abc' }, 'COUNT', /whole number/],
    [{ FLAG: 'yes' }, 'FLAG', /expected true or false/],
    [{ MODE: 'strict' }, 'MODE', /one of enforce, warn, off/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of fatal, error/],
    [{ URL: 'ftp://x' }, 'URL', /use http or https/],
    [{ URL: 'not a url' }, 'URL', /invalid URL/],
  ])('%j → a ConfigError naming %s', (env, variable, message) => {
    const found = problem(env);
    expect(found.variable).toBe(variable);
    expect(found.message).toMatch(new RegExp(`^${variable}: `));
    expect(found.message).toMatch(message);
  });

  it('never echoes a secret or a URL with credentials', () => {
    const secret = problem({ SECRET: 'has space-s3cret' });
    expect(secret).toEqual({ variable: 'SECRET', message: 'SECRET: must not contain whitespace' });
    const url = problem({ URL: 'http://user:pa55word@admin:8080' });
    expect(url.message).not.toContain('pa55word');
    expect(url.message).toMatch(/must not contain credentials; use the token/);
    expect(problem({ SECRET: 'caf\u00e9' }).message).not.toContain('caf');
  });
});
