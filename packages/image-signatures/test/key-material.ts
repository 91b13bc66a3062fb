import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

/** PEM texts of every kind the key parser must accept or refuse. */
export function pemKeys() {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ecdsa: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ecdsaPrivate: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ecdsaSec1Private: ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    ed25519: generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString(),
    rsa: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    rsaPkcs1: rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    p384: generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString(),
    x25519: generateKeyPairSync('x25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString(),
    rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString(),
  };
}

/** Fails when `message` holds any line (or the start of a line) of a PEM's base64 body. */
export function expectNoKeyMaterial(message: string, ...pems: string[]): void {
  for (const pem of pems) {
    for (const line of pem.split('\n').filter((l) => l && !l.startsWith('-----'))) {
      expect(message).not.toContain(line.slice(0, 16));
    }
  }
}

/** A fresh temporary directory and a way to write files into it; `remove()` in teardown. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'image-signatures-'));
  return {
    dir,
    write(name: string, text: string): string {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    remove(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
