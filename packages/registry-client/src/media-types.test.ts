import { describe, expect, it } from 'vitest';
import { CONTENT_DIGEST, manifestMediaType, mediaTypeOf } from './media-types.js';

describe('CONTENT_DIGEST', () => {
  it.each([
    [`sha256:${'a'.repeat(64)}`, true],
    [`sha512:${'b'.repeat(128)}`, true],
    [`sha256:${'a'.repeat(63)}`, false],
    [`sha256:${'a'.repeat(65)}`, false],
    [`sha512:${'b'.repeat(127)}`, false],
    [`sha512:${'B'.repeat(128)}`, false],
    [`xsha256:${'a'.repeat(64)}`, false],
    [`sha384:${'a'.repeat(96)}`, false],
  ])('%j → %s', (digest, valid) => {
    expect(CONTENT_DIGEST.test(digest)).toBe(valid);
  });
});

describe('manifestMediaType', () => {
  it('drops parameters and case', () => {
    expect(manifestMediaType('Application/VND.OCI.Image.Index.v1+JSON; charset=utf-8')).toBe(
      'application/vnd.oci.image.index.v1+json',
    );
    expect(mediaTypeOf(' text/html ; q=1')).toBe('text/html');
  });

  it('is undefined for other or no types', () => {
    expect(manifestMediaType('application/json')).toBeUndefined();
    expect(manifestMediaType(undefined)).toBeUndefined();
    expect(mediaTypeOf('; charset=utf-8')).toBeUndefined();
  });
});
