/**
 * Tokenizer for the HCL subset (see parser.ts). Positions are 1-based; a column counts
 * Unicode code points, so an emoji before an error does not shift the reported column.
 */

/** Raised for every malformed document; `reason` is the message without the position prefix. */
export class HclSyntaxError extends Error {
  override name = 'HclSyntaxError';
  readonly line: number;
  readonly column: number;
  readonly reason: string;

  constructor(line: number, column: number, reason: string) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

export type TokenType =
  | 'ident' | 'string' | 'heredoc' | 'number'
  | '{' | '}' | '[' | ']' | '=' | ':' | ','
  | 'newline' | 'eof';

export interface Token {
  type: TokenType;
  /** Decoded text for strings, heredocs and identifiers; the number for numbers. */
  value: string | number;
  line: number;
  column: number;
}

const PUNCTUATION = new Set(['{', '}', '[', ']', '=', ':', ',']);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };
// Sticky patterns consume whole runs at once; per-character work made big policies slow.
const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/y;
const BLANKS = /[ \t\r]+/y;
const PLAIN_TEXT = /[^"\\\n]+/y;

/** How a token reads in an error message. */
export function describeToken(token: Token): string {
  switch (token.type) {
    case 'eof': return 'end of input';
    case 'newline': return 'newline';
    case 'heredoc': return 'heredoc';
    case 'number': return `number ${token.value}`;
    case 'ident': return `identifier "${token.value}"`;
    case 'string': {
      const text = String(token.value);
      return `string ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`;
    }
    default: return `'${token.type}'`;
  }
}

/**
 * Returns a function yielding one token per call, then 'eof' forever. Lexing lazily means a
 * huge malformed input fails at its first error instead of being tokenized up front.
 */
export function createLexer(text: string): () => Token {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let column = 1;

  // Every loop below goes through advance(), so pos strictly grows and lexing always ends.
  const advance = (count = 1): void => {
    const end = Math.min(pos + count, text.length);
    for (; pos < end; pos++) {
      const code = text.charCodeAt(pos);
      if (code === 0x0a) {
        line++;
        column = 1;
      } else if (code < 0xdc00 || code > 0xdfff) {
        // A low surrogate completes a character already counted.
        column++;
      }
    }
  };
  const run = (pattern: RegExp): string => {
    pattern.lastIndex = pos;
    return pattern.exec(text)?.[0] ?? '';
  };
  const token = (type: TokenType, value: string | number, l: number, c: number): Token => ({
    type, value, line: l, column: c,
  });
  const fail = (l: number, c: number, reason: string): never => {
    throw new HclSyntaxError(l, c, reason);
  };

  return function next(): Token {
    while (pos < text.length) {
      const found = scan();
      if (found !== null) return found;
    }
    return token('eof', '', line, column);
  };

  /** Consumes one lexeme: a token, or null for whitespace and comments. */
  function scan(): Token | null {
    const ch = text[pos]!;
    const startLine = line;
    const startColumn = column;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      advance(run(BLANKS).length);
      return null;
    }
    if (ch === '\n') {
      advance();
      return token('newline', '\n', startLine, startColumn);
    }
    if (ch === '#' || text.startsWith('//', pos)) {
      const eol = text.indexOf('\n', pos);
      advance((eol < 0 ? text.length : eol) - pos);
      return null;
    }
    if (text.startsWith('/*', pos)) {
      const end = text.indexOf('*/', pos + 2);
      if (end < 0) fail(startLine, startColumn, 'unterminated comment: "/*" is never closed');
      const spansLines = text.slice(pos, end).includes('\n');
      advance(end + 2 - pos);
      // A comment that swallows a line break still separates the items around it.
      return spansLines ? token('newline', '\n', startLine, startColumn) : null;
    }
    if (PUNCTUATION.has(ch)) {
      advance();
      return token(ch as TokenType, ch, startLine, startColumn);
    }
    if (ch === '"') {
      advance();
      return token('string', readString(), startLine, startColumn);
    }
    if (text.startsWith('<<', pos)) return token('heredoc', readHeredoc(), startLine, startColumn);
    const literal = run(NUMBER);
    if (literal !== '') {
      const after = text[pos + literal.length] ?? '';
      if (/[A-Za-z0-9_.]/.test(after)) fail(startLine, startColumn, `invalid number "${literal}${after}"`);
      const value = Number(literal);
      if (!Number.isFinite(value)) fail(startLine, startColumn, `number out of range: ${literal}`);
      advance(literal.length);
      return token('number', value, startLine, startColumn);
    }
    const name = run(IDENT);
    if (name !== '') {
      advance(name.length);
      return token('ident', name, startLine, startColumn);
    }
    const shown = JSON.stringify(String.fromCodePoint(text.codePointAt(pos)!));
    return fail(startLine, startColumn, `unexpected character ${shown}`);
  }

  /** Reads the rest of a quoted string (the opening quote is consumed); strings are one line. */
  function readString(): string {
    const openLine = line;
    const openColumn = column - 1;
    let out = '';
    for (;;) {
      const ch = text[pos];
      if (ch === undefined || ch === '\n') {
        return fail(openLine, openColumn, 'unterminated string: missing closing \'"\'');
      }
      if (ch === '"') {
        advance();
        return out;
      }
      if (ch !== '\\') {
        const plain = run(PLAIN_TEXT);
        out += plain;
        advance(plain.length);
        continue;
      }
      const escLine = line;
      const escColumn = column;
      const next = text[pos + 1] ?? '';
      if (next === '' || next === '\n') {
        return fail(openLine, openColumn, 'unterminated string: missing closing \'"\'');
      }
      if (Object.hasOwn(ESCAPES, next)) {
        out += ESCAPES[next];
        advance(2);
      } else if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(pos + 2, pos + 6))) {
        out += String.fromCharCode(parseInt(text.slice(pos + 2, pos + 6), 16));
        advance(6);
      } else {
        const shown = next === 'u' ? '\\u' : `\\${next}`;
        return fail(escLine, escColumn, `invalid escape sequence "${shown}" in string`);
      }
    }
  }

  /** `<<ID` keeps lines verbatim; `<<-ID` also strips the indentation common to all lines. */
  function readHeredoc(): string {
    const openLine = line;
    const openColumn = column;
    const header = /<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?(\n|$)/y;
    header.lastIndex = pos;
    const match = header.exec(text);
    if (match === null) {
      return fail(openLine, openColumn, 'invalid heredoc: expected "<<ID" or "<<-ID" alone at the end of the line');
    }
    const indented = match[1] === '-';
    const marker = match[2]!;
    advance(match[0].length);
    const lines: string[] = [];
    for (;;) {
      if (pos >= text.length) {
        return fail(openLine, openColumn, `unterminated heredoc: missing closing "${marker}"`);
      }
      const eol = text.indexOf('\n', pos);
      const end = eol < 0 ? text.length : eol;
      const raw = text.slice(pos, end).replace(/\r$/, '');
      const candidate = indented ? raw.trim() : raw.trimEnd();
      if (candidate === marker) {
        // Stop at the end of the marker: the newline after it is a separator token.
        advance(raw.replace(/[ \t]+$/, '').length);
        break;
      }
      lines.push(raw);
      advance(end + 1 - pos);
    }
    if (indented) {
      const widths = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
      const strip = widths.length === 0 ? 0 : widths.reduce((a, b) => Math.min(a, b));
      return lines.map((l) => `${l.slice(strip)}\n`).join('');
    }
    return lines.map((l) => `${l}\n`).join('');
  }
}
