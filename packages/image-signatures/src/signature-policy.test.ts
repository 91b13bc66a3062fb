import { afterAll, describe, expect, it } from 'vitest';
import { expectNoKeyMaterial, pemKeys, tempDir } from '../test/key-material.js';
import { SignatureConfigError } from './errors.js';
import {
  parseSignaturePolicy,
  SIGNATURES_VARIABLE,
  SIGNING_KEYS_VARIABLE,
  THRESHOLD_VARIABLE,
} from './signature-policy.js';

const pems = pemKeys();
const temp = tempDir();
afterAll(() => temp.remove());
const oneKey = temp.write('one.pub', pems.ecdsa);
const twoKeys = temp.write('two.pem', pems.ecdsa + pems.ed25519);
const privateKey = temp.write('cosign.key.pem', pems.ecdsaPrivate);
const sameKeyTwice = temp.write('twice.pem', pems.ecdsa + pems.ecdsa);

function refusal(env: Record<string, string>): SignatureConfigError {
  try {
    parseSignaturePolicy(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureConfigError);
    return error as SignatureConfigError;
  }
  throw new Error('expected a SignatureConfigError');
}

describe('parseSignaturePolicy', () => {
  it('is off without keys, and enforces with keys', () => {
    expect(parseSignaturePolicy({})).toEqual({ mode: 'off', keys: [], threshold: 1 });
    const policy = parseSignaturePolicy({ [SIGNING_KEYS_VARIABLE]: oneKey });
    expect(policy).toMatchObject({ mode: 'enforce', threshold: 1 });
    expect(policy.keys.map((key) => key.algorithm)).toEqual(['ecdsa-p256']);
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it('reads the mode trimmed and in any case, and empty values as unset', () => {
    expect(
      parseSignaturePolicy({ [SIGNING_KEYS_VARIABLE]: oneKey, [SIGNATURES_VARIABLE]: ' Warn ' })
        .mode,
    ).toBe('warn');
    expect(
      parseSignaturePolicy({ [SIGNING_KEYS_VARIABLE]: oneKey, [SIGNATURES_VARIABLE]: 'OFF' }).mode,
    ).toBe('off');
    expect(
      parseSignaturePolicy({
        [SIGNING_KEYS_VARIABLE]: ' ',
        [SIGNATURES_VARIABLE]: '',
        [THRESHOLD_VARIABLE]: '',
      }),
    ).toEqual({ mode: 'off', keys: [], threshold: 1 });
  });

  it('takes a threshold up to the number of distinct keys', () => {
    expect(
      parseSignaturePolicy({ [SIGNING_KEYS_VARIABLE]: twoKeys, [THRESHOLD_VARIABLE]: ' 2 ' })
        .threshold,
    ).toBe(2);
    expect(parseSignaturePolicy({ [SIGNING_KEYS_VARIABLE]: sameKeyTwice }).keys).toHaveLength(1);
  });

  it('reads the documented variable names', () => {
    expect(
      parseSignaturePolicy({
        MOLECULE_IMAGE_SIGNING_KEYS: twoKeys,
        MOLECULE_IMAGE_SIGNATURES: 'warn',
        MOLECULE_IMAGE_SIGNATURE_THRESHOLD: '2',
      }),
    ).toMatchObject({ mode: 'warn', threshold: 2 });
  });

  it.each([
    ['1', 1],
    ['12', 12],
    ['3', 3],
  ])('without keys (off), takes any whole threshold ≥ 1: %j', (text, threshold) => {
    expect(parseSignaturePolicy({ [THRESHOLD_VARIABLE]: text }).threshold).toBe(threshold);
  });

  it('without keys, says the threshold is an integer ≥ 1, and refuses one past safe integers', () => {
    expect(refusal({ [THRESHOLD_VARIABLE]: '0' }).message).toBe(
      `${THRESHOLD_VARIABLE}="0" is not valid: at least one key must sign; expected an integer ≥ 1`,
    );
    expect(refusal({ [THRESHOLD_VARIABLE]: '9007199254740993' }).reason).toBe('too large');
  });

  it('says what enforce without keys needs', () => {
    expect(refusal({ [SIGNATURES_VARIABLE]: 'enforce' }).message).toBe(
      `${SIGNATURES_VARIABLE}="enforce" is not valid: enforce needs public keys, and ${SIGNING_KEYS_VARIABLE} is not set; expected ${SIGNING_KEYS_VARIABLE}=<PEM file or directory>, or ${SIGNATURES_VARIABLE}=off`,
    );
  });

  it('says what a key file must hold', () => {
    expect(refusal({ [SIGNING_KEYS_VARIABLE]: privateKey }).expected).toBe(
      'a PEM file of public keys (ECDSA P-256, Ed25519, RSA) or a directory of *.pub files',
    );
  });

  it('still checks the keys when off', () => {
    expect(
      refusal({ [SIGNING_KEYS_VARIABLE]: privateKey, [SIGNATURES_VARIABLE]: 'off' }).variable,
    ).toBe(SIGNING_KEYS_VARIABLE);
  });

  it.each([
    [
      'an unknown mode',
      { [SIGNING_KEYS_VARIABLE]: oneKey, [SIGNATURES_VARIABLE]: 'strict' },
      SIGNATURES_VARIABLE,
      /unknown mode; expected enforce, warn, off/,
    ],
    [
      'enforce without keys',
      { [SIGNATURES_VARIABLE]: 'enforce' },
      SIGNATURES_VARIABLE,
      /enforce needs public keys/,
    ],
    [
      'warn without keys',
      { [SIGNATURES_VARIABLE]: 'warn' },
      SIGNATURES_VARIABLE,
      /warn needs public keys/,
    ],
    [
      'threshold 0',
      { [SIGNING_KEYS_VARIABLE]: twoKeys, [THRESHOLD_VARIABLE]: '0' },
      THRESHOLD_VARIABLE,
      /at least one key must sign; expected an integer from 1 to 2/,
    ],
    [
      'threshold abc',
      { [SIGNING_KEYS_VARIABLE]: twoKeys, [THRESHOLD_VARIABLE]: 'abc' },
      THRESHOLD_VARIABLE,
      /not a whole number/,
    ],
    [
      'threshold 1.5',
      { [SIGNING_KEYS_VARIABLE]: twoKeys, [THRESHOLD_VARIABLE]: '1.5' },
      THRESHOLD_VARIABLE,
      /not a whole number/,
    ],
    [
      'threshold -1',
      { [SIGNING_KEYS_VARIABLE]: twoKeys, [THRESHOLD_VARIABLE]: '-1' },
      THRESHOLD_VARIABLE,
      /not a whole number/,
    ],
    [
      'a threshold above the keys',
      { [SIGNING_KEYS_VARIABLE]: twoKeys, [THRESHOLD_VARIABLE]: '3' },
      THRESHOLD_VARIABLE,
      /only 2 distinct key\(s\)/,
    ],
    [
      'a threshold above the distinct keys',
      { [SIGNING_KEYS_VARIABLE]: sameKeyTwice, [THRESHOLD_VARIABLE]: '2' },
      THRESHOLD_VARIABLE,
      /only 1 distinct key\(s\)/,
    ],
    [
      'a missing key file',
      { [SIGNING_KEYS_VARIABLE]: `${temp.dir}/absent.pub` },
      SIGNING_KEYS_VARIABLE,
      /absent\.pub cannot be read \(ENOENT\)/,
    ],
    [
      'a private key file',
      { [SIGNING_KEYS_VARIABLE]: privateKey },
      SIGNING_KEYS_VARIABLE,
      /holds a private key; give the public key/,
    ],
  ])('refuses %s, naming the variable', (_name, env, variable, message) => {
    const error = refusal(env);
    expect(error).toMatchObject({ code: 'CONFIG', variable });
    expect(error.message.startsWith(`${variable}=`)).toBe(true);
    expect(error.message).toMatch(message);
    expectNoKeyMaterial(error.message, pems.ecdsa, pems.ecdsaPrivate, pems.ed25519);
  });
});
