/**
 * `IMAGE_WATCH_DATABASE_URL` checks and redaction, apart from the PostgreSQL client: config.ts
 * validates the URL at start without loading `pg` (about 15 MB of RSS) when no database is used.
 */

/**
 * The URL for logs: without password (in the authority or a `password=` parameter).
 *
 * @example
 * redactDatabaseUrl('postgres://app:s3cret@db:5432/iw'); // 'postgres://app@db:5432/iw'
 */
export function redactDatabaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'postgres://(unparsable URL)';
  }
  url.password = '';
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|secret|key$/i.test(key)) url.searchParams.set(key, 'redacted');
  }
  return url.toString();
}

/**
 * Why `text` is not a usable `IMAGE_WATCH_DATABASE_URL`, or undefined. Never echoes the value
 * (it may hold a password).
 */
export function databaseUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL: write postgres://user:password@host:5432/database';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `must start with postgres:// or postgresql:// (got ${url.protocol}//)`;
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    return 'names no host: write postgres://user:password@host:5432/database';
  }
  if (url.pathname.length > 1 && url.pathname.slice(1).includes('/')) {
    return 'has more than one path segment: the path is the database name';
  }
  return undefined;
}
