import { describe, expect, it } from 'vitest';
import { databaseUrlProblem, redactDatabaseUrl } from '../../src/store/database-url.js';
import {
  isOutage,
  isStoreError,
  isStoreUnavailableError,
  StoreError,
  StoreUnavailableError,
  toStoreError,
} from '../../src/store/store-errors.js';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('store errors', () => {
  it.each([
    ['a refused connection', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset', pgError('ECONNRESET', 'read ECONNRESET')],
    ['an unknown host', pgError('ENOTFOUND', 'getaddrinfo ENOTFOUND db')],
    [
      'admin shutdown (57P01)',
      pgError('57P01', 'terminating connection due to administrator command'),
    ],
    ['the server starting up (57P03)', pgError('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', pgError('08006', 'connection failure')],
    [
      'our statement_timeout (57014)',
      pgError('57014', 'canceling statement due to statement timeout'),
    ],
    ['too many connections (53300)', pgError('53300', 'sorry, too many clients already')],
    ['a dead socket', new Error('Connection terminated unexpectedly')],
    ['a read timeout', new Error('Query read timeout')],
    ['a connect timeout', new Error('timeout exceeded when trying to connect')],
    [
      'happy eyeballs refusing twice',
      new AggregateError([pgError('ECONNREFUSED', 'a'), pgError('ECONNREFUSED', 'b')], ''),
    ],
  ])('%s is an outage: STORE_UNAVAILABLE', (_name, error) => {
    expect(isOutage(error)).toBe(true);
    const typed = toStoreError('commit', error);
    expect(isStoreUnavailableError(typed)).toBe(true);
    expect(typed).toBeInstanceOf(StoreUnavailableError);
    expect(typed.message).toMatch(/^\[commit\] database unavailable: /);
    expect(typed.cause).toBe(error);
  });

  it.each([
    ['a missing table (42P01)', pgError('42P01', 'relation "x" does not exist')],
    ['a permission (42501)', pgError('42501', 'permission denied for table imagewatch_rollouts')],
    ['a deadlock (40P01)', pgError('40P01', 'deadlock detected')],
    ['a plain bug', new TypeError('x is not a function')],
  ])('%s is not an outage: STORE_QUERY_FAILED', (_name, error) => {
    expect(isOutage(error)).toBe(false);
    const typed = toStoreError('listRollouts', error);
    expect(typed.code).toBe('STORE_QUERY_FAILED');
    expect(isStoreUnavailableError(typed)).toBe(false);
  });

  it('a store error stays itself, and is recognised by its brand across copies', () => {
    const original = new StoreError('STORE_BAD_DATA', 'read', 'rollout r-1 is not a rollout');
    expect(toStoreError('commit', original)).toBe(original);
    const lookalike = Object.assign(new Error('x'), {
      [Symbol.for('@molecule/imagewatch.StoreError')]: true,
      code: 'STORE_UNAVAILABLE',
    });
    expect(isStoreError(lookalike)).toBe(true);
    expect(isStoreError(new Error('x'))).toBe(false);
    expect(isStoreError(null)).toBe(false);
  });
});

describe('database URLs', () => {
  it('redacts the password, in the authority and in parameters', () => {
    expect(redactDatabaseUrl('postgres://app:s3cret@db:5432/iw')).toBe('postgres://app@db:5432/iw');
    expect(redactDatabaseUrl('postgresql://app@db/iw?sslmode=require&password=s3cret')).toBe(
      'postgresql://app@db/iw?sslmode=require&password=redacted',
    );
    expect(redactDatabaseUrl('postgres://app:s3cret@db:5432/iw#x')).not.toContain('s3cret');
    expect(redactDatabaseUrl('not a url s3cret')).toBe('postgres://(unparsable URL)');
  });

  it.each([
    ['postgres://app:pw@db:5432/imagewatch', undefined],
    ['postgresql://db/imagewatch', undefined],
    ['postgres:///imagewatch?host=/var/run/postgresql&user=app', undefined],
    ['http://db:5432/imagewatch', /postgres:\/\/ or postgresql:\/\//],
    ['postgres:///imagewatch', /names no host/],
    ['postgres://db/a/b', /more than one path segment/],
    ['db:5432', /postgres:\/\/ or postgresql:\/\//],
    ['not a url with s3cret', /is not a URL/],
  ])('databaseUrlProblem(%s)', (text, expected) => {
    const problem = databaseUrlProblem(text);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
    expect(problem ?? '').not.toContain('s3cret');
    expect(problem ?? '').not.toContain('pw');
  });
});
