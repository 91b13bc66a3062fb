import { describe, expect, it } from 'vitest';
import { parseChallenge } from './push.js';

describe('parseChallenge', () => {
  it('reads a Bearer challenge', () => {
    expect(
      parseChallenge(
        'Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'http://127.0.0.1:1/token',
        service: 'reg',
        scope: 'repository:a/b:pull,push',
      },
    });
  });

  it('reads a Basic challenge and unquoted or escaped values', () => {
    expect(parseChallenge('Basic realm="a \\"b\\"", charset=UTF-8')).toEqual({
      scheme: 'basic',
      params: { realm: 'a "b"', charset: 'UTF-8' },
    });
  });
});
