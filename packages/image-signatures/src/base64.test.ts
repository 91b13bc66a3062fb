import { describe, expect, it } from 'vitest';
import { decodeBase64 } from './base64.js';

describe('decodeBase64', () => {
  it('decodes standard and unpadded URL-safe base64', () => {
    expect(decodeBase64('aGk/Pz8+')?.toString()).toBe('hi???>');
    expect(decodeBase64('aGk_Pz8-')?.toString()).toBe('hi???>');
    expect(decodeBase64('aGk')?.toString()).toBe('hi');
  });

  it('refuses what Buffer.from would silently skip', () => {
    for (const text of ['', 'a', 'aGk=!', 'not base64!', 'aGk=aGk=', 'aG k=']) {
      expect(decodeBase64(text), text).toBeUndefined();
    }
  });

  it('drops whitespace only when asked', () => {
    expect(decodeBase64('aG\nk=\n', { whitespace: true })?.toString()).toBe('hi');
    expect(decodeBase64('aG\nk=')).toBeUndefined();
  });
});
