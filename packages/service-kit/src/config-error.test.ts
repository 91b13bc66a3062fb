import { describe, expect, it } from 'vitest';
import { ConfigError, isConfigError } from './config-error.js';

describe('ConfigError', () => {
  it('names the variable and has the one configuration code', () => {
    const error = new ConfigError('IMAGE_WATCH_INTERVAL', 'invalid duration');
    expect(error.message).toBe('IMAGE_WATCH_INTERVAL: invalid duration');
    expect(error.code).toBe('CONFIG');
    expect(error.variable).toBe('IMAGE_WATCH_INTERVAL');
    expect(error.name).toBe('ConfigError');
  });

  it('is recognised across copies of the module by its brand, and nothing else is', () => {
    const copy = Object.assign(new Error('x'), {
      [Symbol.for('@molecule/service-kit.ConfigError')]: true,
    });
    expect(isConfigError(copy)).toBe(true);
    expect(isConfigError(new ConfigError('A', 'b'))).toBe(true);
    expect(isConfigError(Object.assign(new Error('x'), { code: 'CONFIG', variable: 'A' }))).toBe(
      false,
    );
    expect(isConfigError(undefined)).toBe(false);
  });
});
