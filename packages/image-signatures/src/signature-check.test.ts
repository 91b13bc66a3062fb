import { generateKeyPairSync } from 'node:crypto';
import { generateCosignKeyPair, signWithKey } from '@molecule/real-parts';
import { describe, expect, it } from 'vitest';
import { verifierKey } from '../test/signing.js';
import { findSigner, isValidSignature } from './signature-check.js';

const DATA = Buffer.from('payload');

describe('isValidSignature', () => {
  it.each(['ecdsa-p256', 'ed25519', 'rsa'] as const)(
    'takes a %s signature of the data only',
    (algorithm) => {
      const pair = generateCosignKeyPair(algorithm);
      const key = verifierKey(pair);
      expect(isValidSignature(key, DATA, signWithKey(pair, DATA))).toBe(true);
      expect(isValidSignature(key, Buffer.from('other'), signWithKey(pair, DATA))).toBe(false);
      expect(isValidSignature(key, DATA, Buffer.from('not a signature'))).toBe(false);
    },
  );

  it('never throws: a key that does not fit its algorithm signs nothing', () => {
    const ed = generateKeyPairSync('ed25519').publicKey;
    expect(
      isValidSignature({ id: 'x', algorithm: 'rsa', source: 't', key: ed }, DATA, Buffer.alloc(64)),
    ).toBe(false);
  });
});

describe('findSigner', () => {
  const k1 = generateCosignKeyPair();
  const k2 = generateCosignKeyPair();
  const keys = [verifierKey(k1), verifierKey(k2)];

  it('is the key that made the signature, wherever it is in the list, or none', () => {
    const signature = signWithKey(k2, DATA);
    expect(findSigner(keys, DATA, signature)?.id).toBe(k2.keyId);
    expect(findSigner([...keys].reverse(), DATA, signature)?.id).toBe(k2.keyId);
    expect(findSigner(keys, DATA, signWithKey(generateCosignKeyPair(), DATA))).toBeUndefined();
  });
});
