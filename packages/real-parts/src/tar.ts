/**
 * A minimal ustar writer: directories, regular files and symlinks, root-owned, fixed mtime,
 * so the same entries always give the same bytes (and the same layer digest).
 * Format: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06
 */
export type TarEntry =
  | { readonly type: 'directory'; readonly path: string; readonly mode?: number }
  | {
      readonly type: 'file';
      readonly path: string;
      readonly content: Buffer;
      readonly mode?: number;
    }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

const BLOCK = 512;
/** 2000-01-01T00:00:00Z: a fixed mtime keeps layers reproducible. */
const MTIME = 946_684_800;

export function createTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === 'file' ? entry.content : Buffer.alloc(0);
    parts.push(tarHeader(entry, content.length));
    if (content.length > 0) {
      parts.push(content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function tarHeader(entry: TarEntry, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const name =
    entry.type === 'directory' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar path too long: ${name}`);
  const mode =
    entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644));
  header.write(name, 0, 100, 'utf8');
  writeOctal(header, mode, 100, 8);
  writeOctal(header, 0, 108, 8); // uid
  writeOctal(header, 0, 116, 8); // gid
  writeOctal(header, size, 124, 12);
  writeOctal(header, MTIME, 136, 12);
  header.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  header.write(entry.type === 'directory' ? '5' : entry.type === 'symlink' ? '2' : '0', 156, 1);
  if (entry.type === 'symlink') header.write(entry.target, 157, 100, 'utf8');
  header.write('ustar\u0000', 257, 6, 'latin1');
  header.write('00', 263, 2, 'latin1');
  header.write('root', 265, 32, 'latin1');
  header.write('root', 297, 32, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return header;
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'latin1');
}

/** Read back the entries of a tar written by {@link createTar} (for tests and checks). */
export function readTar(
  tar: Buffer,
): { path: string; type: string; size: number; target: string; mode: number }[] {
  const entries: { path: string; type: string; size: number; target: string; mode: number }[] = [];
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number) =>
      header.toString('latin1', start, start + length).replace(/\u0000.*$/s, '');
    const stored = Number.parseInt(field(148, 8).trim(), 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
    if (stored !== sum) throw new Error(`bad tar checksum at offset ${offset}`);
    const size = Number.parseInt(field(124, 12), 8);
    entries.push({
      path: field(0, 100),
      type: field(156, 1),
      size,
      target: field(157, 100),
      mode: Number.parseInt(field(100, 8), 8),
    });
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
