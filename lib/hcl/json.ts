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

/**
 * `blockLabels` names the top-level keys that are blocks and how many label levels each has:
 * with `{ path: 1 }`, `{"path": {"secret/*": {...}}}` is the block `path "secret/*" {...}`.
 * At any level an array of objects stands for several blocks. A block's position is that of
 * the key holding its last label (or of the array element). Other keys become attributes.
 */
export function parseJsonDocument(text: string, blockLabels: Record<string, number>): HclBody {
  const root = new JsonReader(text).readDocument();
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

  private advance(count = 1): void {
    for (let k = 0; k < count && this.pos < this.text.length; k++) {
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
    while (/[ \t\r\n]/.test(this.text[this.pos] ?? '')) this.advance();
  }

  private expect(ch: string, reason: string): void {
    if (this.text[this.pos] !== ch) this.fail(this.here(), `${reason}, found ${this.showChar()}`);
    this.advance();
  }

  private readValue(): JsonNode {
    const at = this.here();
    const ch = this.text[this.pos];
    if (ch === '{') return { ...at, kind: 'object', entries: this.nested(at, () => this.readEntries(at)) };
    if (ch === '[') return { ...at, kind: 'array', items: this.nested(at, () => this.readItems(at)) };
    if (ch === '"') return { ...at, kind: 'scalar', value: this.readString() };
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.advance(word.length);
        return { ...at, kind: 'scalar', value };
      }
    }
    NUMBER.lastIndex = this.pos;
    const number = NUMBER.exec(this.text);
    if (number !== null) {
      this.advance(number[0].length);
      const value = Number(number[0]);
      if (!Number.isFinite(value)) this.fail(at, `number out of range: ${number[0]}`);
      return { ...at, kind: 'scalar', value };
    }
    return this.fail(at, `expected a value, found ${this.showChar()}`);
  }

  private nested<T>(at: Position, read: () => T): T {
    if (++this.depth > MAX_NESTING_DEPTH) this.fail(at, `nesting too deep: more than ${MAX_NESTING_DEPTH} levels of objects and arrays`);
    const result = read();
    this.depth--;
    return result;
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
        out += ch;
        this.advance();
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
