/**
 * A parser for `WWW-Authenticate` (RFC 9110 §11.6.1, §11.2): several challenges in one
 * header, parameters in any order, quoted strings with backslash escapes, token68 values,
 * case-insensitive scheme and parameter names. Nothing registry-specific lives here.
 */
export interface AuthChallenge {
  /** Lower-cased scheme, e.g. `bearer`, `basic`. */
  readonly scheme: string;
  /** Parameters by lower-cased name; values unquoted and unescaped. */
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/**
 * A token68 (RFC 9110 §11.2) that is the whole credential: its characters, `=` padding, then
 * only blanks before the end or a comma. `name=value` is a parameter, not a token68.
 */
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))/y;

export function parseWwwAuthenticate(
  header: string | readonly string[] | undefined,
): AuthChallenge[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(', ');
  const parser = new Parser(text);
  const challenges: AuthChallenge[] = [];
  for (;;) {
    parser.skip(/[\s,]/);
    if (parser.done()) break;
    const scheme = parser.token();
    if (scheme === '') {
      parser.pos++; // not a challenge start: skip the stray character
      continue;
    }
    challenges.push(parseChallengeRest(parser, scheme.toLowerCase()));
  }
  return challenges;
}

function parseChallengeRest(parser: Parser, scheme: string): AuthChallenge {
  const params: Record<string, string> = Object.create(null);
  const hadSpace = parser.skip(/[ \t]/) > 0;
  if (!hadSpace) return { scheme, params };
  const token68 = parser.token68();
  if (token68 !== undefined) return { scheme, params, token68 };
  for (;;) {
    const start = parser.pos;
    const name = parser.token();
    if (name === '') break;
    parser.skip(/[ \t]/);
    if (parser.peek() !== '=') {
      // A bare token after a comma is the next challenge's scheme.
      parser.pos = start;
      break;
    }
    parser.pos++;
    parser.skip(/[ \t]/);
    const value = parser.peek() === '"' ? parser.quoted() : parser.token();
    const key = name.toLowerCase();
    if (!(key in params)) params[key] = value;
    parser.skip(/[ \t]/);
    if (parser.peek() !== ',') break;
    // Consume commas (empty list elements are allowed), then see what follows.
    parser.skip(/[\s,]/);
  }
  return { scheme, params };
}

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skip(chars: RegExp): number {
    const start = this.pos;
    while (!this.done() && chars.test(this.text[this.pos]!)) this.pos++;
    return this.pos - start;
  }

  token(): string {
    const start = this.pos;
    while (!this.done() && TCHAR.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** A token68 only when it is the whole credential (see `TOKEN68`). */
  token68(): string | undefined {
    TOKEN68.lastIndex = this.pos;
    const match = TOKEN68.exec(this.text)?.[0];
    if (match !== undefined) this.pos += match.length;
    return match;
  }

  quoted(): string {
    this.pos++; // opening quote
    let value = '';
    while (!this.done()) {
      const char = this.text[this.pos++]!;
      if (char === '"') return value;
      if (char === '\\' && !this.done()) {
        value += this.text[this.pos++]!;
        continue;
      }
      value += char;
    }
    return value; // unterminated: take what is there
  }
}

/** The first challenge with the given scheme, if any. */
export function findChallenge(
  challenges: readonly AuthChallenge[],
  scheme: 'bearer' | 'basic',
): AuthChallenge | undefined {
  return challenges.find((challenge) => challenge.scheme === scheme);
}
