/**
 * GitHub signatures, and every comparison with a secret going through
 * `crypto.timingSafeEqual` (bearer tokens are the service kit's, tested there).
 */
import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { isGitHubSignatureValid } from '../../src/hooks/github-signature.js';
import { signGitHubPayload } from './payloads.js';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

const SECRET = 'gh-webhook-secret';

beforeEach(() => {
  timingSafeEqual.mockClear();
});

describe('isGitHubSignatureValid', () => {
  const body = Buffer.from('{"action":"published"}');

  it('accepts the HMAC-SHA256 of the exact body', () => {
    expect(isGitHubSignatureValid(body, signGitHubPayload(body, SECRET), SECRET)).toBe(true);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['signed with another secret (forged)', signGitHubPayload(body, 'guess'), body],
    [
      'body changed after signing',
      signGitHubPayload(body, SECRET),
      Buffer.from('{"action":"published" }'),
    ],
    [
      'sha1 header format',
      `sha1=${crypto.createHmac('sha1', SECRET).update(body).digest('hex')}`,
      body,
    ],
    ['bare hex without sha256=', signGitHubPayload(body, SECRET).slice('sha256='.length), body],
    ['truncated', signGitHubPayload(body, SECRET).slice(0, 40), body],
    ['empty', '', body],
    ['missing', undefined, body],
  ])('refuses %s', (_name, header, received) => {
    expect(isGitHubSignatureValid(received, header, SECRET)).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('the signature matches the one GitHub documents for its example', () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    expect(signGitHubPayload('Hello, World!', "It's a Secret to Everybody")).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });
});
