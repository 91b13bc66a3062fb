import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNoKeyMaterial, pemKeys, tempDir } from '../test/key-material.js';
import { isImageSignatureError, SigningKeyError } from './errors.js';
import { loadSigningKeys, parseSigningKeys } from './signing-keys.js';

const pems = pemKeys();
const temp = tempDir();
afterAll(() => temp.remove());

function refusal(action: () => unknown): SigningKeyError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SigningKeyError);
    expect(isImageSignatureError(error)).toBe(true);
    return error as SigningKeyError;
  }
  throw new Error('expected a SigningKeyError');
}

describe('parseSigningKeys', () => {
  it('reads ECDSA P-256, Ed25519 and RSA keys, with the SPKI fingerprint as id', () => {
    const keys = parseSigningKeys(`${pems.ecdsa}\n${pems.ed25519}${pems.rsa}`, 'keys.pem');
    expect(keys.map((key) => key.algorithm)).toEqual(['ecdsa-p256', 'ed25519', 'rsa']);
    const spki = createPublicKey(pems.ecdsa).export({ type: 'spki', format: 'der' });
    expect(keys[0]).toMatchObject({
      id: `sha256:${createHash('sha256').update(spki).digest('hex')}`,
      source: 'keys.pem',
    });
  });

  it('reads an RSA PUBLIC KEY (PKCS#1) block as the same key as its SPKI form', () => {
    const [pkcs1] = parseSigningKeys(pems.rsaPkcs1, 'rsa.pub');
    expect(pkcs1?.id).toBe(parseSigningKeys(pems.rsa, 'rsa.pub')[0]?.id);
  });

  it.each([
    ['no PEM block', () => 'just text', /no PEM block/],
    ['a private key', () => pems.ecdsaPrivate, /holds a private key; give the public key/],
    [
      'a private key beside a public one',
      () => pems.ecdsa + pems.ecdsaSec1Private,
      /holds a private key/,
    ],
    ['an EC key on P-384', () => pems.p384, /curve secp384r1; only P-256/],
    ['an X25519 key', () => pems.x25519, /x25519 key; supported/],
    ['a 1024-bit RSA key', () => pems.rsa1024, /1024-bit RSA key/],
    [
      'garbage inside a block',
      () => pems.ecdsa.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'),
      /PEM block 1\) is not a readable PUBLIC KEY/,
    ],
    [
      'valid base64 that is no key',
      () => '-----BEGIN PUBLIC KEY-----\nAAAAAAAA\n-----END PUBLIC KEY-----\n',
      /not a readable PUBLIC KEY/,
    ],
    [
      'a certificate',
      () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      /CERTIFICATE block; give public keys only/,
    ],
    [
      'mismatched BEGIN and END',
      () => pems.ecdsa.replace('END PUBLIC KEY', 'END RSA PUBLIC KEY'),
      /ends with END RSA PUBLIC KEY/,
    ],
  ])('refuses %s, naming the source and no key material', (_name, text, message) => {
    const pem = text();
    const error = refusal(() => parseSigningKeys(pem, '/etc/keys/cosign.pub'));
    expect(error.code).toBe('INVALID_SIGNING_KEY');
    expect(error.message).toMatch(message);
    expect(error.message).toContain('/etc/keys/cosign.pub');
    expectNoKeyMaterial(error.message, pem);
  });

  it('names the block at fault when several are given', () => {
    const error = refusal(() => parseSigningKeys(pems.ecdsa + pems.p384, 'k.pem'));
    expect(error).toMatchObject({ source: 'k.pem', block: 2 });
    expect(error.message).toContain('k.pem (PEM block 2) is an EC key');
  });
});

describe('loadSigningKeys', () => {
  it('reads a file', () => {
    const path = temp.write('single.pem', pems.ecdsa + pems.ed25519);
    expect(loadSigningKeys(path).map((key) => key.source)).toEqual([path, path]);
  });

  it('reads the *.pub and *.pem files of a directory in name order, each key once', () => {
    const dir = join(temp.dir, 'keys');
    mkdirSync(dir);
    temp.write('keys/b.pem', pems.rsa);
    temp.write('keys/a.pub', pems.ecdsa);
    temp.write('keys/c.pub', pems.ecdsa); // the same key again
    temp.write('keys/README.md', 'not a key');
    temp.write('keys/cosign.key', pems.ecdsaPrivate); // ignored: not *.pub / *.pem
    mkdirSync(join(dir, 'sub.pub'));
    symlinkSync(join(dir, 'a.pub'), join(dir, 'd.pem')); // secret volumes are symlinks
    const keys = loadSigningKeys(dir);
    expect(keys.map((key) => [key.algorithm, key.source])).toEqual([
      ['ecdsa-p256', join(dir, 'a.pub')],
      ['rsa', join(dir, 'b.pem')],
    ]);
  });

  it('reads eight key files in name order', () => {
    const dir = join(temp.dir, 'many');
    mkdirSync(dir);
    const names = ['h', 'c', 'f', 'a', 'g', 'b', 'e', 'd'].map((name) => `${name}.pub`);
    for (const name of names) {
      const pem = generateKeyPairSync('ed25519')
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();
      temp.write(`many/${name}`, pem);
    }
    expect(loadSigningKeys(dir).map((key) => key.source)).toEqual(
      [...names].sort().map((name) => join(dir, name)),
    );
  });

  it('ignores names that only contain .pub or .pem, and dangling symlinks', () => {
    const dir = join(temp.dir, 'suffixes');
    mkdirSync(dir);
    temp.write('suffixes/a.pub', pems.ecdsa);
    temp.write('suffixes/b.pub.bak', 'not a key');
    temp.write('suffixes/c.pem.old', 'not a key');
    symlinkSync(join(dir, 'gone'), join(dir, 'd.pub'));
    expect(loadSigningKeys(dir).map((key) => key.source)).toEqual([join(dir, 'a.pub')]);
  });

  it('keeps why a missing path or a block that is not base64 cannot be read as the cause', () => {
    const missing = refusal(() => loadSigningKeys(join(temp.dir, 'nowhere.pub')));
    expect((missing.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    const garbled = refusal(() =>
      parseSigningKeys('-----BEGIN PUBLIC KEY-----\n%%%%\n-----END PUBLIC KEY-----\n', 'x.pub'),
    );
    expect((garbled.cause as Error).message).toBe('not base64');
  });

  it('refuses a directory without key files, a missing path and a bad file in a directory', () => {
    mkdirSync(join(temp.dir, 'empty'));
    temp.write('empty/notes.txt', 'nothing');
    expect(refusal(() => loadSigningKeys(join(temp.dir, 'empty'))).message).toMatch(
      /empty is a directory without \*\.pub or \*\.pem files/,
    );
    expect(refusal(() => loadSigningKeys(join(temp.dir, 'missing.pub'))).message).toMatch(
      /missing\.pub cannot be read \(ENOENT\)/,
    );
    mkdirSync(join(temp.dir, 'mixed'));
    temp.write('mixed/a.pub', pems.ecdsa);
    temp.write('mixed/b.pub', pems.ecdsaPrivate);
    expect(refusal(() => loadSigningKeys(join(temp.dir, 'mixed'))).source).toBe(
      join(temp.dir, 'mixed', 'b.pub'),
    );
  });
});
