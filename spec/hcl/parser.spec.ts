import { describe, it, expect } from 'vitest';
import { HclSyntaxError, MAX_NESTING_DEPTH, parseHcl, type HclAttribute, type HclBlock, type HclValue } from '../../lib/hcl/parser.js';

/** The value of the only attribute in a one-attribute document. */
function valueOf(text: string): HclValue {
  const [item] = parseHcl(text).items;
  if (item?.kind !== 'attribute') throw new Error('expected one attribute');
  return item.value;
}

function syntaxError(text: string): HclSyntaxError {
  try {
    parseHcl(text);
  } catch (err) {
    if (err instanceof HclSyntaxError) return err;
    throw err;
  }
  throw new Error(`parsed without error: ${JSON.stringify(text)}`);
}

describe('parseHcl: api.md examples', () => {
  it('parses the three policy examples of §9 into path blocks with positions', () => {
    const policy = [
      'path "secret/*"        { capabilities = ["create", "read", "update", "delete", "list"] }',
      'path "secret/team/+/db" { capabilities = ["read"] }',
      'path "secret/super"    { policy = "deny" }       # legacy levels: deny | read | write | sudo',
      '',
    ].join('\n');
    const attr = (name: string, value: HclValue, line: number, column: number, valueColumn: number): HclAttribute => ({
      kind: 'attribute', name, value, line, column, valueLine: line, valueColumn,
    });
    const block = (label: string, line: number, item: HclAttribute): HclBlock => ({
      kind: 'block', type: 'path', labels: [label], body: { items: [item] }, line, column: 1,
    });
    expect(parseHcl(policy)).toEqual({
      items: [
        block('secret/*', 1, attr('capabilities', ['create', 'read', 'update', 'delete', 'list'], 1, 26, 41)),
        block('secret/team/+/db', 2, attr('capabilities', ['read'], 2, 27, 42)),
        block('secret/super', 3, attr('policy', 'deny', 3, 26, 35)),
      ],
    });
  });

  it('parses the server configuration example of §16', () => {
    const config = [
      'listener "tcp" {',
      '  address         = "127.0.0.1:8200"',
      '  tls_cert_file   = "/etc/nomad-api/tls.crt"',
      '  tls_key_file    = "/etc/nomad-api/tls.key"',
      '  # tls_disable = true, tls_min_version = "tls13", tls_client_ca_file, max_request_size',
      '}',
      'storage "file" { path = "/var/lib/nomad-api" }     # or "inmem" {}',
      'api_addr          = "https://10.0.0.5:8200"       # what standbys redirect to',
      'default_lease_ttl = "768h"',
    ].join('\n');
    const body = parseHcl(config);
    expect(body.items.map((item) => [item.kind, item.line, item.column])).toEqual([
      ['block', 1, 1], ['block', 7, 1], ['attribute', 8, 1], ['attribute', 9, 1],
    ]);
    const listener = body.items[0] as HclBlock;
    expect(listener.labels).toEqual(['tcp']);
    expect(listener.body.items.map((item) => [(item as HclAttribute).name, (item as HclAttribute).value, item.line, item.column]))
      .toEqual([
        ['address', '127.0.0.1:8200', 2, 3],
        ['tls_cert_file', '/etc/nomad-api/tls.crt', 3, 3],
        ['tls_key_file', '/etc/nomad-api/tls.key', 4, 3],
      ]);
    expect((body.items[1] as HclBlock).body.items).toEqual([
      { kind: 'attribute', name: 'path', value: '/var/lib/nomad-api', line: 7, column: 18, valueLine: 7, valueColumn: 25 },
    ]);
  });
});

describe('parseHcl: values', () => {
  it.each<[string, string, HclValue]>([
    ['a plain string', 'a = "hello"', 'hello'],
    ['an empty string', 'a = ""', ''],
    ['escapes', 'a = "q\\" b\\\\ n\\n t\\t r\\r"', 'q" b\\ n\n t\t r\r'],
    ['\\u escapes', 'a = "\\u00e9\\u2603"', 'é☃'],
    ['a surrogate pair', 'a = "\\ud83d\\ude00"', '😀'],
    ['interpolation kept literally', 'a = "secret/${x}/{{identity.entity.id}}"', 'secret/${x}/{{identity.entity.id}}'],
    ['comment markers inside a string', 'a = "# not // a /* comment */"', '# not // a /* comment */'],
    ['an integer', 'a = 42', 42],
    ['a negative integer', 'a = -7', -7],
    ['a decimal', 'a = 3.25', 3.25],
    ['a negative decimal', 'a = -0.5', -0.5],
    ['an exponent', 'a = 1e3', 1000],
    ['true', 'a = true', true],
    ['false', 'a = false', false],
    ['an empty list', 'a = []', []],
    ['a list with a trailing comma', 'a = [1, "two", true,]', [1, 'two', true]],
    ['a multi-line list', 'a = [\n  "x",\n\n  "y"\n]', ['x', 'y']],
    ['nested lists', 'a = [[1], [[2]], []]', [[1], [[2]], []]],
    ['an object with = and commas', 'a = { k = "v", n = 1 }', { k: 'v', n: 1 }],
    ['an object with quoted keys and colons', 'a = { "k": "v", "with space": [1] }', { k: 'v', 'with space': [1] }],
    ['a multi-line object without commas', 'a = {\n  x = 1\n  y = { z = false }\n}', { x: 1, y: { z: false } }],
    ['an empty object', 'a = {}', {}],
    ['a heredoc', 'a = <<EOF\nline one\n  line two\nEOF', 'line one\n  line two\n'],
    ['an empty heredoc', 'a = <<EOF\nEOF\n', ''],
    ['a heredoc keeping a marker-like line', 'a = <<EOF\n EOF\nEOFX\nEOF\n', ' EOF\nEOFX\n'],
    ['an indented heredoc', 'a = <<-EOT\n    one\n      two\n\n    three\n    EOT\n', 'one\n  two\n\nthree\n'],
    ['a heredoc with CRLF line ends', 'a = <<EOF\r\nx\r\nEOF\r\n', 'x\n'],
    ['heredocs in a list', 'a = [<<A\nx\nA\n, <<B\ny\nB\n]', ['x\n', 'y\n']],
  ])('%s', (_name, text, expected) => {
    expect(valueOf(text)).toEqual(expected);
  });

  it('keeps "__proto__" as an ordinary object key', () => {
    const value = valueOf('a = { "__proto__" = "x" }') as Record<string, HclValue>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
  });

  it('records where each value starts', () => {
    const [item] = parseHcl('\n  key =\t[\n1]').items as HclAttribute[];
    expect([item!.line, item!.column, item!.valueLine, item!.valueColumn]).toEqual([2, 3, 2, 9]);
  });
});

describe('parseHcl: bodies and blocks', () => {
  it('skips all three comment styles, including one spanning lines', () => {
    const text = '# hash\n// slashes\na = 1 # trailing\n/* block\n comment */ b = 2 /* inline */\nc = /* x */ 3';
    expect(parseHcl(text).items.map((item) => [(item as HclAttribute).name, (item as HclAttribute).value, item.line]))
      .toEqual([['a', 1, 3], ['b', 2, 5], ['c', 3, 6]]);
  });

  it('accepts an empty document, blank lines, a BOM and CRLF line ends', () => {
    expect(parseHcl('')).toEqual({ items: [] });
    expect(parseHcl('\n\n  # only a comment\n')).toEqual({ items: [] });
    expect(parseHcl('\uFEFFa = 1\r\nb = 2\r\n').items.map((item) => [item.line, item.column])).toEqual([[1, 1], [2, 1]]);
  });

  it('parses blocks with zero, one and several labels, bare identifiers included', () => {
    const body = parseHcl('a {}\nb "x" {}\nc "x" y "z" {\n}\n');
    expect(body.items.map((item) => (item as HclBlock).labels)).toEqual([[], ['x'], ['x', 'y', 'z']]);
  });

  it('keeps repeated blocks of one type in order, and nested blocks', () => {
    const body = parseHcl('path "a" { policy = "read" }\npath "b" {\n  inner "c" { x = 1 }\n}\npath "a" {}\n');
    expect(body.items.map((item) => (item as HclBlock).labels[0])).toEqual(['a', 'b', 'a']);
    const inner = (body.items[1] as HclBlock).body.items[0] as HclBlock;
    expect([inner.type, inner.labels, inner.line, inner.column]).toEqual(['inner', ['c'], 3, 3]);
  });

  it('accepts commas between body items on one line', () => {
    expect(parseHcl('a = 1, b = "x"').items.map((item) => (item as HclAttribute).name)).toEqual(['a', 'b']);
  });

  it('counts columns in code points, so astral characters do not shift them', () => {
    const err = syntaxError('a = "😀😀" x');
    expect([err.line, err.column]).toEqual([1, 10]);
  });
});

describe('parseHcl: syntax errors name line and column', () => {
  it.each<[string, string, number, number, string]>([
    ['an unterminated string', 'a = "abc', 1, 5, 'unterminated string'],
    ['a string broken by a newline', 'a = 1\nb = "ab\ncd"', 2, 5, 'unterminated string'],
    ['a backslash at the end of input', 'a = "ab\\', 1, 5, 'unterminated string'],
    ['an invalid escape', 'a = "x\\qy"', 1, 7, 'invalid escape sequence "\\q"'],
    ['a short \\u escape', 'a = "\\u12"', 1, 6, 'invalid escape sequence "\\u"'],
    ['an unterminated block', 'listener "tcp" {\n  a = 1\n', 1, 16, 'unterminated block'],
    ['an unterminated nested block', 'a {\n  b {\n  }\n', 1, 3, 'unterminated block'],
    ['an unterminated list', 'a = [1,\n2', 1, 5, 'unterminated list'],
    ['an unterminated object', 'x = 1\na = { b = 1', 2, 5, 'unterminated object'],
    ['an unterminated comment', 'a = 1\n  /* x', 2, 3, 'unterminated comment'],
    ['an unterminated heredoc', 'a = <<EOF\nhi\n', 1, 5, 'unterminated heredoc'],
    ['an unterminated indented heredoc', 'b = 1\na = <<-EOF\nhi\nEOFX', 2, 5, 'unterminated heredoc: missing closing "EOF"'],
    ['a heredoc marker followed by text', 'a = <<EOF x\nEOF', 1, 5, 'invalid heredoc'],
    ['a heredoc without a marker', 'a = <<\nx', 1, 5, 'invalid heredoc'],
    ['a missing = before a string', 'address "127.0.0.1"\n', 1, 9, 'missing \'=\' after "address"'],
    ['a missing = before a number', 'port 8200', 1, 6, 'missing \'=\' after "port"'],
    ['a missing = before a list', 'x = 1\n  caps ["read"]', 2, 8, 'missing \'=\' after "caps"'],
    ['a name alone on its line', 'a = 1\nname\nb = 2', 2, 5, 'missing \'=\' after "name"'],
    ['a colon instead of =', 'a: 1', 1, 2, 'missing \'=\' after "a"'],
    ['two values on one line', 'a = 1 2', 1, 7, 'expected a newline after the attribute'],
    ['two blocks on one line', 'a {} b {}', 1, 6, 'expected a newline after the block'],
    ['an attribute without a name', '= 1', 1, 1, 'expected an attribute name or a block type'],
    ['a string where a name belongs', '"a" = 1', 1, 1, 'expected an attribute name or a block type'],
    ['a missing value', 'a = \nb = 1', 1, 5, 'expected a value, found newline'],
    ['a missing value at the end', 'a =', 1, 4, 'expected a value, found end of input'],
    ['a closing brace as a value', 'a = }', 1, 5, 'expected a value'],
    ['a stray closing brace', 'a = 1\n}', 2, 1, 'unexpected \'}\''],
    ['an extra closing brace after a block', 'path "a" {}}', 1, 12, 'unexpected \'}\''],
    ['a list without commas', 'a = [1 2]', 1, 8, "expected ',' or ']'"],
    ['a leading comma in a list', 'a = [,]', 1, 6, 'expected a value'],
    ['an unquoted string value', 'log_level = info', 1, 13, 'unexpected identifier "info": strings must be quoted'],
    ['null', 'a = null', 1, 5, 'null is not supported'],
    ['an object entry without =', 'a = { b 1 }', 1, 9, 'missing \'=\' after key "b"'],
    ['object entries without a separator', 'a = { b = 1 c = 2 }', 1, 13, "expected ',' or a newline"],
    ['a block inside an object value', 'a = { b { } }', 1, 9, 'missing \'=\' after key "b"'],
    ['a number as an object key', 'a = { 1 = 2 }', 1, 7, 'expected an object key'],
    ['a duplicate attribute', 'a = 1\nb = 2\na = 3', 3, 1, 'duplicate attribute "a" (first set at line 1, column 1)'],
    ['a duplicate attribute in a block', 'x {\n  a = 1\n  a = 1\n}', 3, 3, 'duplicate attribute "a"'],
    ['a duplicate object key', 'a = { b = 1, b = 2 }', 1, 14, 'duplicate key "b" (first set at line 1, column 7)'],
    ['an unexpected character', 'a = @', 1, 5, 'unexpected character "@"'],
    ['a lone minus sign', 'a = -', 1, 5, 'unexpected character "-"'],
    ['a number with a trailing dot', 'a = 1.', 1, 5, 'invalid number "1."'],
    ['a number glued to letters', 'a = 12abc', 1, 5, 'invalid number "12a"'],
    ['a number out of range', 'a = 1e999', 1, 5, 'number out of range'],
    ['labels followed by =', 'path "a" "b" = 1', 1, 14, "expected '{' to open block \"path\""],
    ['a single quote', "a = 'x'", 1, 5, 'unexpected character'],
  ])('%s', (_name, text, line, column, reason) => {
    const err = syntaxError(text);
    expect([err.line, err.column]).toEqual([line, column]);
    expect(err.reason).toContain(reason);
    expect(err.message).toBe(`line ${line}, column ${column}: ${err.reason}`);
  });
});

describe('parseHcl: limits', () => {
  const lists = (n: number) => `a = ${'['.repeat(n)}${']'.repeat(n)}`;
  const blocks = (n: number) => `${'b {\n'.repeat(n)}${'}\n'.repeat(n)}`;

  it(`accepts ${MAX_NESTING_DEPTH} levels of nesting`, () => {
    expect(() => parseHcl(lists(MAX_NESTING_DEPTH))).not.toThrow();
    expect(() => parseHcl(blocks(MAX_NESTING_DEPTH))).not.toThrow();
  });

  it.each<[string, string, number, number]>([
    ['lists', lists(MAX_NESTING_DEPTH + 1), 1, 5 + MAX_NESTING_DEPTH],
    ['blocks', blocks(MAX_NESTING_DEPTH + 1), MAX_NESTING_DEPTH + 1, 3],
    ['objects', `a = ${'{ b = '.repeat(MAX_NESTING_DEPTH + 1)}1${' }'.repeat(MAX_NESTING_DEPTH + 1)}`, 1, 5 + 6 * MAX_NESTING_DEPTH],
    ['a million open brackets', `a = ${'['.repeat(1_000_000)}`, 1, 5 + MAX_NESTING_DEPTH],
  ])('refuses deeper %s with a positioned error', (_name, text, line, column) => {
    const err = syntaxError(text);
    expect(err.reason).toContain('nesting too deep');
    expect([err.line, err.column]).toEqual([line, column]);
  });

  it('throws only HclSyntaxError on mangled input', () => {
    const sample = 'path "a/*" {\n  capabilities = ["read", "list",]\n  x = { k = <<-E\n  v\n  E\n  }\n}\n# c /* d */ "e\\u0041"\n';
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = '{}[]=:,"\\\n <-#/*aEu0';
    for (let round = 0; round < 2000; round++) {
      const chars = [...sample];
      for (let edits = 1 + random(4); edits > 0; edits--) {
        const at = random(chars.length);
        if (random(2) === 0) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[random(alphabet.length)]!);
      }
      try {
        parseHcl(chars.join(''));
      } catch (err) {
        expect(err).toBeInstanceOf(HclSyntaxError);
      }
    }
  });
});
