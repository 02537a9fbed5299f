/**
 * The JSON form of configuration and policies, parsed with positions into the same AST as
 * HCL so both forms get the same line:column errors. JSON.parse is not used because it
 * reports neither lines nor duplicate keys (it silently keeps the last one).
 */
import { HclSyntaxError } from './lexer.js';
import { MAX_NESTING_DEPTH, type HclAttribute, type HclBlock, type HclBody, type HclValue } from './parser.js';

interface Position {
  line: number;
  column: number;
}

type JsonNode = Position & (
  | { kind: 'object'; entries: Array<{ key: string; at: Position; value: JsonNode }> }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'scalar'; value: string | number | boolean | null }
);

const ESCAPES: Record<string, string> = {
  '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t',
};
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
// Sticky patterns consume whole runs at once; per-character work made big documents slow.
const SPACE = /[ \t\r\n]+/y;
const PLAIN_TEXT = /[^"\\\u0000-\u001f]+/y;

/**
 * `blockLabels` names the top-level keys that are blocks and how many label levels each has:
 * with `{ path: 1 }`, `{"path": {"secret/*": {...}}}` is the block `path "secret/*" {...}`.
 * At any level an array of objects stands for several blocks. A block's position is that of
 * the key holding its last label (or of the array element). Other keys become attributes.
 */
export function parseJsonDocument(text: string, blockLabels: Record<string, number>): HclBody {
  return documentOf(new JsonReader(text).readDocument(), blockLabels);
}

/**
 * The same document from a value already in memory (an embedder's config object) instead of
 * text: it goes through the same block expansion, so every later check is the file's own.
 * Positions are 0 (there are none); errors name the key path instead. A key set to
 * `undefined` is left out, as JSON.stringify would.
 */
export function valueDocument(value: unknown, blockLabels: Record<string, number>): HclBody {
  return documentOf(nodeOf(value, '', 0), blockLabels);
}

const NOWHERE: Position = { line: 0, column: 0 };

function nodeOf(value: unknown, path: string, depth: number): JsonNode {
  const fail = (reason: string): never => {
    throw new HclSyntaxError(0, 0, path === '' ? reason : `${path}: ${reason}`);
  };
  if (depth > MAX_NESTING_DEPTH) fail(`nesting too deep: more than ${MAX_NESTING_DEPTH} levels of objects and arrays`);
  if (value === null) return fail('null is not supported: leave the key out instead');
  if (Array.isArray(value)) {
    return { ...NOWHERE, kind: 'array', items: value.map((item, i) => nodeOf(item, `${path}[${i}]`, depth + 1)) };
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return { ...NOWHERE, kind: 'scalar', value };
    case 'number':
      return Number.isFinite(value) ? { ...NOWHERE, kind: 'scalar', value } : fail(`number out of range: ${value}`);
    case 'object': {
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) fail('expected a plain object, a string, a number or a boolean');
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, child]) => child !== undefined)
        .map(([key, child]) => ({ key, at: NOWHERE, value: nodeOf(child, path === '' ? key : `${path}.${key}`, depth + 1) }));
      return { ...NOWHERE, kind: 'object', entries };
    }
    default:
      return fail(`a ${typeof value} is not a configuration value: use a string, a number, a boolean, an object or an array`);
  }
}

function documentOf(root: JsonNode, blockLabels: Record<string, number>): HclBody {
  if (root.kind !== 'object') {
    throw new HclSyntaxError(root.line, root.column, 'a JSON document must be an object');
  }
  const items: Array<HclAttribute | HclBlock> = [];
  for (const { key, at, value } of root.entries) {
    if (Object.hasOwn(blockLabels, key)) {
      expandBlocks(key, value, [], blockLabels[key]!, at, items);
    } else {
      items.push(attribute(key, at, value));
    }
  }
  return { items };
}

function expandBlocks(
  type: string, node: JsonNode, labels: string[], remaining: number, at: Position, out: Array<HclAttribute | HclBlock>,
): void {
  if (node.kind === 'array') {
    for (const item of node.items) expandBlocks(type, item, labels, remaining, item, out);
  } else if (node.kind !== 'object') {
    throw new HclSyntaxError(node.line, node.column, `"${type}" must be an object (or an array of objects)`);
  } else if (remaining === 0) {
    const items = node.entries.map((entry) => attribute(entry.key, entry.at, entry.value));
    out.push({ kind: 'block', type, labels, body: { items }, line: at.line, column: at.column });
  } else {
    for (const entry of node.entries) {
      expandBlocks(type, entry.value, [...labels, entry.key], remaining - 1, entry.at, out);
    }
  }
}

function attribute(name: string, at: Position, node: JsonNode): HclAttribute {
  return { kind: 'attribute', name, value: toValue(node), line: at.line, column: at.column, valueLine: node.line, valueColumn: node.column };
}

function toValue(node: JsonNode): HclValue {
  switch (node.kind) {
    case 'array':
      return node.items.map(toValue);
    case 'object':
      return Object.fromEntries(node.entries.map((entry) => [entry.key, toValue(entry.value)]));
    default:
      if (node.value === null) {
        throw new HclSyntaxError(node.line, node.column, 'null is not supported: leave the key out instead');
      }
      return node.value;
  }
}

class JsonReader {
  private pos = 0;
  private line = 1;
  private column = 1;
  private depth = 0;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  readDocument(): JsonNode {
    this.skipSpace();
    const root = this.readValue();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(this.here(), `unexpected ${this.showChar()} after the end of the document`);
    return root;
  }

  private here(): Position {
    return { line: this.line, column: this.column };
  }

  private fail(at: Position, reason: string): never {
    throw new HclSyntaxError(at.line, at.column, reason);
  }

  private showChar(): string {
    const code = this.text.codePointAt(this.pos);
    return code === undefined ? 'end of input' : `character ${JSON.stringify(String.fromCodePoint(code))}`;
  }

  private run(pattern: RegExp): string {
    pattern.lastIndex = this.pos;
    return pattern.exec(this.text)?.[0] ?? '';
  }

  private advance(count = 1): void {
    const end = Math.min(this.pos + count, this.text.length);
    while (this.pos < end) {
      const code = this.text.charCodeAt(this.pos++);
      if (code === 0x0a) {
        this.line++;
        this.column = 1;
      } else if (code < 0xdc00 || code > 0xdfff) {
        // A low surrogate completes a character already counted.
        this.column++;
      }
    }
  }

  private skipSpace(): void {
    this.advance(this.run(SPACE).length);
  }

  private expect(ch: string, reason: string): void {
    if (this.text[this.pos] !== ch) this.fail(this.here(), `${reason}, found ${this.showChar()}`);
    this.advance();
  }

  private readValue(): JsonNode {
    const { line, column } = this;
    const ch = this.text[this.pos];
    if (ch === '{' || ch === '[') {
      if (++this.depth > MAX_NESTING_DEPTH) {
        this.fail({ line, column }, `nesting too deep: more than ${MAX_NESTING_DEPTH} levels of objects and arrays`);
      }
      const node: JsonNode = ch === '{'
        ? { line, column, kind: 'object', entries: this.readEntries({ line, column }) }
        : { line, column, kind: 'array', items: this.readItems({ line, column }) };
      this.depth--;
      return node;
    }
    if (ch === '"') return { line, column, kind: 'scalar', value: this.readString() };
    const word = ch === 't' ? 'true' : ch === 'f' ? 'false' : ch === 'n' ? 'null' : '';
    if (word !== '' && this.text.startsWith(word, this.pos)) {
      this.advance(word.length);
      return { line, column, kind: 'scalar', value: word === 'null' ? null : word === 'true' };
    }
    const literal = this.run(NUMBER);
    if (literal !== '') {
      this.advance(literal.length);
      const value = Number(literal);
      if (!Number.isFinite(value)) this.fail({ line, column }, `number out of range: ${literal}`);
      return { line, column, kind: 'scalar', value };
    }
    return this.fail({ line, column }, `expected a value, found ${this.showChar()}`);
  }

  private readEntries(open: Position): Array<{ key: string; at: Position; value: JsonNode }> {
    this.advance();
    const entries: Array<{ key: string; at: Position; value: JsonNode }> = [];
    const seen = new Map<string, Position>();
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.advance();
      return entries;
    }
    for (;;) {
      this.skipSpace();
      const at = this.here();
      if (this.pos >= this.text.length) this.fail(open, 'unterminated object: "{" is never closed');
      if (this.text[this.pos] !== '"') this.fail(at, `expected a quoted key, found ${this.showChar()}`);
      const key = this.readString();
      const first = seen.get(key);
      if (first !== undefined) this.fail(at, `duplicate key "${key}" (first set at line ${first.line}, column ${first.column})`);
      seen.set(key, at);
      this.skipSpace();
      this.expect(':', `expected ':' after key "${key}"`);
      this.skipSpace();
      entries.push({ key, at, value: this.readValue() });
      this.skipSpace();
      if (this.pos >= this.text.length) this.fail(open, 'unterminated object: "{" is never closed');
      if (this.text[this.pos] === '}') {
        this.advance();
        return entries;
      }
      this.expect(',', "expected ',' or '}' in object");
    }
  }

  private readItems(open: Position): JsonNode[] {
    this.advance();
    const items: JsonNode[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.advance();
      return items;
    }
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.text.length) this.fail(open, 'unterminated array: "[" is never closed');
      items.push(this.readValue());
      this.skipSpace();
      if (this.pos >= this.text.length) this.fail(open, 'unterminated array: "[" is never closed');
      if (this.text[this.pos] === ']') {
        this.advance();
        return items;
      }
      this.expect(',', "expected ',' or ']' in array");
    }
  }

  private readString(): string {
    const open = this.here();
    this.advance();
    let out = '';
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined || ch === '\n') this.fail(open, 'unterminated string: missing closing \'"\'');
      if (ch === '"') {
        this.advance();
        return out;
      }
      if (ch.charCodeAt(0) < 0x20) this.fail(this.here(), 'control character in string: escape it');
      if (ch !== '\\') {
        const plain = this.run(PLAIN_TEXT);
        out += plain;
        this.advance(plain.length);
        continue;
      }
      const next = this.text[this.pos + 1] ?? '';
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (Object.hasOwn(ESCAPES, next)) {
        out += ESCAPES[next];
        this.advance(2);
      } else if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(hex)) {
        out += String.fromCharCode(parseInt(hex, 16));
        this.advance(6);
      } else if (next === '' || next === '\n') {
        this.fail(open, 'unterminated string: missing closing \'"\'');
      } else {
        this.fail(this.here(), `invalid escape sequence "\\${next === 'u' ? 'u' : next}" in string`);
      }
    }
  }
}
