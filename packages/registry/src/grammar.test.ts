import { describe, expect, it } from 'vitest';
import { digestProblem, isValidTag } from './grammar.js';

describe('isValidTag', () => {
  it.each([
    ['latest', true],
    ['v1.2.3-rc_1', true],
    ['_x', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['.hidden', false],
    ['-dash', false],
    ['with/slash', false],
    ['', false],
  ])('%j → %s', (tag, valid) => {
    expect(isValidTag(tag)).toBe(valid);
  });
});

describe('digestProblem', () => {
  const hex = (n: number) => 'a'.repeat(n);
  it.each([
    [`sha256:${hex(64)}`, undefined],
    [`sha384:${hex(96)}`, undefined],
    [`sha512:${hex(128)}`, undefined],
    // the surface syntax is anchored at both ends
    [`1sha256:${hex(64)}`, 'not of the form <algorithm>:<hex>'],
    [`sha256:${hex(64)}z`, 'not of the form <algorithm>:<hex>'],
    [`sha256:${hex(31)}`, 'not of the form <algorithm>:<hex>'],
    // an algorithm with a separator parses, then is unknown to the engine
    [`sha256+b64u:${hex(64)}`, 'unsupported digest algorithm "sha256+b64u"'],
    [`sha256.x1:${hex(64)}`, 'unsupported digest algorithm "sha256.x1"'],
    [`sha256:${hex(63)}`, 'a sha256 digest has 64 hex digits, this one has 63'],
    // lowercase is checked over the whole hex part, not only one end of it
    [`sha256:${'A'.repeat(63)}a`, 'digest hex must be lowercase'],
    [`sha256:a${'A'.repeat(63)}`, 'digest hex must be lowercase'],
  ])('%j → %j', (digest, problem) => {
    expect(digestProblem(digest)).toBe(problem);
  });
});
