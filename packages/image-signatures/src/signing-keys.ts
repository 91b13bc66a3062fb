import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBase64 } from './base64.js';
import { SigningKeyError } from './errors.js';

/** The public-key algorithms cosign signs with that we verify (SHA-256 for ECDSA and RSA). */
export type SigningKeyAlgorithm = 'ecdsa-p256' | 'ed25519' | 'rsa';

/** One configured public key. */
export interface SigningKey {
  /**
   * `sha256:<hex>` of the key's SPKI DER: stable across PEM spellings (`PUBLIC KEY` or
   * `RSA PUBLIC KEY`), and what a sigstore bundle's `publicKey.hint` carries (in base64).
   */
  readonly id: string;
  readonly algorithm: SigningKeyAlgorithm;
  /** The file the key was read from (or the `source` given to `parseSigningKeys`). */
  readonly source: string;
  readonly key: KeyObject;
}

/** Smallest RSA modulus accepted; smaller keys are forgeable in practice. */
const MIN_RSA_BITS = 2048;

/** Every PEM block, with its label; RFC 7468 allows only `-----BEGIN <label>-----` lines. */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
/** Any private key spelling: PKCS#8, `EC`/`RSA`, `ENCRYPTED`, `OPENSSH`, cosign's `ENCRYPTED SIGSTORE`. */
const PRIVATE_KEY_LABEL = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * Reads every public key of a PEM text. `source` names the text in errors (a file path).
 * Refuses a text with no PEM block, with a private key anywhere in it, with a block that is
 * not a public key, or with a key we cannot verify with (EC curves other than P-256, DSA,
 * X25519, RSA under 2048 bits). Messages name `source` and the block number, never the key.
 *
 * @example
 * const [key] = parseSigningKeys(readFileSync('cosign.pub', 'utf8'), 'cosign.pub');
 * key.id; // 'sha256:dc2bcfdb…'
 */
export function parseSigningKeys(pemText: string, source: string): SigningKey[] {
  if (PRIVATE_KEY_LABEL.test(pemText)) {
    throw new SigningKeyError(
      source,
      'holds a private key; give the public key (e.g. cosign.pub from cosign generate-key-pair)',
    );
  }
  const blocks = [...pemText.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) {
    throw new SigningKeyError(
      source,
      'has no PEM block; expected -----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----',
    );
  }
  return blocks.map((block, index) => {
    const refuse = (reason: string, cause?: unknown): never => {
      throw new SigningKeyError(source, reason, { block: index + 1, cause });
    };
    return parseBlock(block[1]!, block[2]!, block[3]!, source, refuse);
  });
}

/** Throws the block's `SigningKeyError`. */
type Refuse = (reason: string, cause?: unknown) => never;

function parseBlock(
  label: string,
  body: string,
  endLabel: string,
  source: string,
  refuse: Refuse,
): SigningKey {
  if (label !== endLabel) {
    refuse(`starts with BEGIN ${label} and ends with END ${endLabel}`);
  }
  const type = label === 'PUBLIC KEY' ? 'spki' : label === 'RSA PUBLIC KEY' ? 'pkcs1' : undefined;
  if (type === undefined) {
    return refuse(
      `is a ${label} block; give public keys only (PUBLIC KEY); certificates and keyless signing are not supported`,
    );
  }
  // PEM headers (`Proc-Type:`) or stray characters are not base64 and land here too.
  const der = decodeBase64(body, { whitespace: true });
  let key: KeyObject;
  try {
    if (der === undefined) throw new Error('not base64');
    key = createPublicKey({ key: der, format: 'der', type });
  } catch (error) {
    return refuse(`is not a readable ${label}`, error);
  }
  const algorithm = keyAlgorithm(key, refuse);
  const spki = key.export({ type: 'spki', format: 'der' });
  return {
    id: `sha256:${createHash('sha256').update(spki).digest('hex')}`,
    algorithm,
    source,
    key,
  };
}

function keyAlgorithm(key: KeyObject, refuse: Refuse): SigningKeyAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'ecdsa-p256';
      return refuse(
        `is an EC key on curve ${curve ?? 'unknown'}; only P-256 (prime256v1) is supported`,
      );
    }
    case 'ed25519':
      return 'ed25519';
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits >= MIN_RSA_BITS) return 'rsa';
      return refuse(`is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are needed`);
    }
    default:
      return refuse(
        `is a ${key.asymmetricKeyType ?? 'unknown'} key; supported: ECDSA P-256, Ed25519, RSA`,
      );
  }
}

/** Key files of a directory: `*.pub` and `*.pem`; anything else there is ignored. */
const KEY_FILE = /\.(?:pub|pem)$/;

/**
 * Reads the configured public keys, synchronously (called once at service start): `path` is
 * a PEM file, or a directory whose `*.pub` / `*.pem` files are read in name order (a
 * Kubernetes secret volume works: its entries are symlinks, followed). The same key in two
 * files (same id) is kept once, from the first file. A missing path, an unreadable file, a
 * directory without key files, or any bad key refuses them all: a half-loaded key set would
 * silently drop a key the operator meant to trust.
 *
 * @example
 * const keys = loadSigningKeys('/etc/molecule/signing-keys'); // a.pub, b.pem
 */
export function loadSigningKeys(path: string): SigningKey[] {
  const files = keyFiles(path);
  const byId = new Map<string, SigningKey>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new SigningKeyError(file, `cannot be read (${errnoText(error)})`, { cause: error });
    }
    for (const key of parseSigningKeys(text, file)) {
      if (!byId.has(key.id)) byId.set(key.id, key);
    }
  }
  return [...byId.values()];
}

function keyFiles(path: string): string[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new SigningKeyError(path, `cannot be read (${errnoText(error)})`, { cause: error });
  }
  if (!isDirectory) return [path];
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (error) {
    throw new SigningKeyError(path, `cannot be listed (${errnoText(error)})`, { cause: error });
  }
  const files = names
    .filter((name) => KEY_FILE.test(name))
    .sort()
    .map((name) => join(path, name))
    .filter((file) => isFile(file));
  if (files.length === 0) {
    throw new SigningKeyError(path, 'is a directory without *.pub or *.pem files');
  }
  return files;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    // A dangling symlink is not a key file; a real read error shows when the file is read.
    return false;
  }
}

/** `ENOENT`, `EACCES`…: the errno code says enough and carries no content. */
function errnoText(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'unknown error';
}
