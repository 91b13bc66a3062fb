import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './process.js';

export interface SigningKey {
  /** PEM private key (RSA 2048). */
  privateKeyPem: string;
  /** PEM self-signed certificate: the registry's `rootcertbundle`. */
  certificatePem: string;
  certificatePath: string;
  /** base64 DER of the certificate, for the JWT header `x5c`. */
  certificateDer: string;
}

/** An RSA key and a self-signed certificate made with the openssl CLI in `dir`. */
export async function createSigningKey(dir: string): Promise<SigningKey> {
  const keyPath = join(dir, 'token-key.pem');
  const certificatePath = join(dir, 'token-cert.pem');
  await runCommand('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    '/CN=molecule-real-parts-token-issuer',
    '-keyout',
    keyPath,
    '-out',
    certificatePath,
  ]);
  const [privateKeyPem, certificatePem] = await Promise.all([
    readFile(keyPath, 'utf8'),
    readFile(certificatePath, 'utf8'),
  ]);
  const certificateDer = new X509Certificate(certificatePem).raw.toString('base64');
  return { privateKeyPem, certificatePem, certificatePath, certificateDer };
}
