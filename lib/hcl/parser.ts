/**
 * A small parser for the HCL subset that server configuration and ACL policies are written in.
 *
 * Grammar (newlines matter only between body items; inside lists and objects they are free):
 *   body      = { item ( "\n" | "," ) }
 *   item      = IDENT "=" value | IDENT { STRING | IDENT } "{" body "}"
 *   value     = STRING | HEREDOC | NUMBER | "true" | "false" | list | object
 *   list      = "[" [ value { "," value } [ "," ] ] "]"
 *   object    = "{" { (IDENT | STRING) ("=" | ":") value [ "," ] } "}"
 * No interpolation: "${...}" and "{{...}}" are kept literally, for policy templates to handle.
 * An attribute set twice in one body, or a key repeated in one object, is an error; blocks
 * of the same type may repeat.
 */
import { HclSyntaxError, createLexer, describeToken, type Token } from './lexer.js';

export { HclSyntaxError } from './lexer.js';

export type HclValue = string | number | boolean | HclValue[] | { [key: string]: HclValue };

export interface HclAttribute {
  kind: 'attribute';
  name: string;
  value: HclValue;
  /** Where the name starts. */
  line: number;
  column: number;
  /** Where the value starts, for errors about the value itself. */
  valueLine: number;
  valueColumn: number;
}

export interface HclBlock {
  kind: 'block';
  type: string;
  labels: string[];
  body: HclBody;
  line: number;
  column: number;
}

export interface HclBody {
  items: Array<HclAttribute | HclBlock>;
}

/** Blocks, lists and objects together; deeper input is refused rather than risking the stack. */
export const MAX_NESTING_DEPTH = 64;

export function parseHcl(text: string): HclBody {
  return new Parser(text).parseDocument();
}

class Parser {
  private readonly nextToken: () => Token;
  private current: Token;
  private depth = 0;

  constructor(text: string) {
    this.nextToken = createLexer(text);
    this.current = this.nextToken();
  }

  parseDocument(): HclBody {
    return this.parseBody(null);
  }

  private peek(): Token {
    return this.current;
  }

  private take(): Token {
    const token = this.current;
    if (token.type !== 'eof') this.current = this.nextToken();
    return token;
  }

  private skipNewlines(): void {
    while (this.current.type === 'newline') this.take();
  }

  private fail(token: Token, reason: string): never {
    throw new HclSyntaxError(token.line, token.column, reason);
  }

  private enter(open: Token): void {
    this.depth++;
    if (this.depth > MAX_NESTING_DEPTH) {
      this.fail(open, `nesting too deep: more than ${MAX_NESTING_DEPTH} levels of blocks, lists and objects`);
    }
  }

  /** `open` is the '{' of the enclosing block, or null at the top level. */
  private parseBody(open: Token | null): HclBody {
    const items: Array<HclAttribute | HclBlock> = [];
    const attributes = new Map<string, HclAttribute>();
    for (;;) {
      this.skipNewlines();
      const token = this.peek();
      if (token.type === 'eof') {
        if (open !== null) this.fail(open, 'unterminated block: "{" is never closed');
        return { items };
      }
      if (token.type === '}') {
        if (open === null) this.fail(token, 'unexpected \'}\' with no block to close');
        this.take();
        return { items };
      }
      if (token.type !== 'ident') {
        this.fail(token, `expected an attribute name or a block type, found ${describeToken(token)}`);
      }
      const item = this.parseItem();
      if (item.kind === 'attribute') {
        const first = attributes.get(item.name);
        if (first !== undefined) {
          this.fail(token, `duplicate attribute "${item.name}" (first set at line ${first.line}, column ${first.column})`);
        }
        attributes.set(item.name, item);
      }
      items.push(item);
      const after = this.peek();
      if (after.type === ',') {
        this.take();
      } else if (after.type !== 'newline' && after.type !== 'eof' && after.type !== '}') {
        this.fail(after, `expected a newline after the ${item.kind}, found ${describeToken(after)}`);
      }
    }
  }

  private parseItem(): HclAttribute | HclBlock {
    const name = this.take();
    const afterName = this.peek();
    if (afterName.type === '=') {
      this.take();
      const start = this.peek();
      const value = this.parseValue();
      return {
        kind: 'attribute', name: String(name.value), value,
        line: name.line, column: name.column, valueLine: start.line, valueColumn: start.column,
      };
    }
    const labels: string[] = [];
    while (this.peek().type === 'string' || this.peek().type === 'ident') {
      labels.push(String(this.take().value));
    }
    const next = this.peek();
    if (next.type === '{') {
      this.take();
      this.enter(next);
      const body = this.parseBody(next);
      this.depth--;
      return { kind: 'block', type: String(name.value), labels, body, line: name.line, column: name.column };
    }
    // `key "value"` or `key 42` on its own line is an attribute that lost its '='.
    const endsLine = next.type === 'newline' || next.type === 'eof' || next.type === '}';
    const valueLike = ['number', 'heredoc', '[', ':'].includes(next.type);
    if ((labels.length <= 1 && endsLine) || (labels.length === 0 && valueLike)) {
      this.fail(afterName, `missing '=' after "${name.value}"`);
    }
    return this.fail(next, `expected '{' to open block "${name.value}", found ${describeToken(next)}`);
  }

  private parseValue(): HclValue {
    const token = this.peek();
    switch (token.type) {
      case 'string':
      case 'heredoc':
      case 'number':
        this.take();
        return token.value;
      case 'ident':
        if (token.value === 'true' || token.value === 'false') {
          this.take();
          return token.value === 'true';
        }
        if (token.value === 'null') this.fail(token, 'null is not supported: leave the attribute out instead');
        return this.fail(token, `unexpected identifier "${token.value}": strings must be quoted`);
      case '[':
        return this.parseList();
      case '{':
        return this.parseObject();
      default:
        return this.fail(token, `expected a value, found ${describeToken(token)}`);
    }
  }

  private parseList(): HclValue[] {
    const open = this.take();
    this.enter(open);
    const values: HclValue[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek().type === ']') break;
      if (this.peek().type === 'eof') this.fail(open, 'unterminated list: "[" is never closed');
      values.push(this.parseValue());
      this.skipNewlines();
      const token = this.peek();
      if (token.type === ',') {
        this.take();
      } else if (token.type === 'eof') {
        this.fail(open, 'unterminated list: "[" is never closed');
      } else if (token.type !== ']') {
        this.fail(token, `expected ',' or ']' in list, found ${describeToken(token)}`);
      }
    }
    this.take();
    this.depth--;
    return values;
  }

  private parseObject(): { [key: string]: HclValue } {
    const open = this.take();
    this.enter(open);
    // Entries, not assignment: a key such as "__proto__" must stay an ordinary own property.
    const entries: Array<[string, HclValue]> = [];
    const seen = new Map<string, Token>();
    for (;;) {
      this.skipNewlines();
      const key = this.peek();
      if (key.type === '}') break;
      if (key.type === 'eof') this.fail(open, 'unterminated object: "{" is never closed');
      if (key.type !== 'ident' && key.type !== 'string') {
        this.fail(key, `expected an object key, found ${describeToken(key)}`);
      }
      this.take();
      const name = String(key.value);
      const first = seen.get(name);
      if (first !== undefined) {
        this.fail(key, `duplicate key "${name}" (first set at line ${first.line}, column ${first.column})`);
      }
      seen.set(name, key);
      const separator = this.peek();
      if (separator.type !== '=' && separator.type !== ':') this.fail(separator, `missing '=' after key "${name}"`);
      this.take();
      entries.push([name, this.parseValue()]);
      const after = this.peek();
      if (after.type === ',') {
        this.take();
      } else if (after.type === 'eof') {
        this.fail(open, 'unterminated object: "{" is never closed');
      } else if (after.type !== 'newline' && after.type !== '}') {
        this.fail(after, `expected ',' or a newline between object entries, found ${describeToken(after)}`);
      }
    }
    this.take();
    this.depth--;
    return Object.fromEntries(entries);
  }
}
