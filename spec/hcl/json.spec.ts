import { describe, it, expect } from 'vitest';
import { parseJsonDocument } from '../../lib/hcl/json.js';
import { HclSyntaxError, MAX_NESTING_DEPTH, parseHcl, type HclBlock, type HclBody, type HclValue } from '../../lib/hcl/parser.js';

/** The AST without positions, to compare a JSON document with its HCL twin. */
function shape(body: HclBody): unknown {
  return body.items.map((item) =>
    item.kind === 'attribute'
      ? { attribute: item.name, value: item.value }
      : { block: item.type, labels: item.labels, body: shape(item.body) });
}

function syntaxError(text: string, blockLabels: Record<string, number> = {}): HclSyntaxError {
  try {
    parseJsonDocument(text, blockLabels);
  } catch (err) {
    if (err instanceof HclSyntaxError) return err;
    throw err;
  }
  throw new Error(`parsed without error: ${JSON.stringify(text)}`);
}

describe('parseJsonDocument: same AST as HCL', () => {
  it('reads the §9 policy examples like their HCL form', () => {
    const json = JSON.stringify({
      path: {
        'secret/*': { capabilities: ['create', 'read', 'update', 'delete', 'list'] },
        'secret/team/+/db': { capabilities: ['read'] },
        'secret/super': { policy: 'deny' },
      },
    }, null, 2);
    const hcl = [
      'path "secret/*"        { capabilities = ["create", "read", "update", "delete", "list"] }',
      'path "secret/team/+/db" { capabilities = ["read"] }',
      'path "secret/super"    { policy = "deny" }',
    ].join('\n');
    expect(shape(parseJsonDocument(json, { path: 1 }))).toEqual(shape(parseHcl(hcl)));
  });

  it('reads the §16 config form, with other keys as attributes', () => {
    const json = JSON.stringify({
      listener: { tcp: { address: '127.0.0.1:8200', tls_disable: true } },
      storage: { file: { path: '/var/lib/nomad-api' } },
      default_lease_ttl: '768h',
      meta: { a: [1, 2.5, false] },
    });
    const hcl = 'listener "tcp" {\n address = "127.0.0.1:8200"\n tls_disable = true\n}\n'
      + 'storage "file" { path = "/var/lib/nomad-api" }\ndefault_lease_ttl = "768h"\nmeta = { a = [1, 2.5, false] }\n';
    expect(shape(parseJsonDocument(json, { listener: 1, storage: 1 }))).toEqual(shape(parseHcl(hcl)));
  });

  it('records positions of keys, values and blocks (the key of the last label)', () => {
    const text = '{\n  "path": {\n    "a/*": { "policy": "read" }\n  },\n  "n":  7\n}';
    expect(parseJsonDocument(text, { path: 1 })).toEqual({
      items: [
        {
          kind: 'block', type: 'path', labels: ['a/*'], line: 3, column: 5,
          body: { items: [{ kind: 'attribute', name: 'policy', value: 'read', line: 3, column: 14, valueLine: 3, valueColumn: 24 }] },
        },
        { kind: 'attribute', name: 'n', value: 7, line: 5, column: 3, valueLine: 5, valueColumn: 9 },
      ],
    });
  });

  it.each<[string, string, Record<string, number>, Array<[string[], number, number]>]>([
    ['an array at the label level', '{"path": [{"a": {}}, {"b": {}}]}', { path: 1 }, [[['a'], 1, 12], [['b'], 1, 23]]],
    ['an array at the body level', '{"path": {"a": [{"x": 1}, {"x": 2}]}}', { path: 1 }, [[['a'], 1, 17], [['a'], 1, 27]]],
    ['an array of arrays', '{"b": [[{}], {}]}', { b: 0 }, [[[], 1, 9], [[], 1, 14]]],
    ['a block without labels', '{"b": {"x": 1}}', { b: 0 }, [[[], 1, 2]]],
    ['two label levels', '{"b": {"l1": {"l2": {}, "l3": {}}}}', { b: 2 }, [[['l1', 'l2'], 1, 15], [['l1', 'l3'], 1, 25]]],
    ['an empty label object', '{"b": {}}', { b: 1 }, []],
  ])('expands %s into blocks', (_name, text, labels, expected) => {
    const blocks = parseJsonDocument(text, labels).items as HclBlock[];
    expect(blocks.map((block) => [block.labels, block.line, block.column])).toEqual(expected);
  });

  it('ignores inherited names when deciding what is a block', () => {
    const [item] = parseJsonDocument('{"toString": {"a": {}}}', {}).items;
    expect(item?.kind).toBe('attribute');
  });
});

describe('parseJsonDocument: values', () => {
  it.each<[string, string, HclValue]>([
    ['escapes', '"\\" \\\\ \\/ \\b \\f \\n \\r \\t"', '" \\ / \b \f \n \r \t'],
    ['unicode escapes and a surrogate pair', '"\\u00e9 \\ud83d\\ude00"', 'é 😀'],
    ['raw non-ASCII', '"ünïcödé 😀"', 'ünïcödé 😀'],
    ['numbers', '[0, -1, 2.5, -0.25, 1e3, 1E-2]', [0, -1, 2.5, -0.25, 1000, 0.01]],
    ['booleans', '[true, false]', [true, false]],
    ['nested containers', '{"a": [{}, [], {"b": []}]}', { a: [{}, [], { b: [] }] }],
  ])('%s', (_name, literal, expected) => {
    const [item] = parseJsonDocument(`{"v": ${literal}}`, {}).items;
    expect(item?.kind === 'attribute' && item.value).toEqual(expected);
  });

  it('accepts a BOM and surrounding whitespace', () => {
    expect(parseJsonDocument('\uFEFF \r\n\t{"a": 1} \n', {}).items).toHaveLength(1);
  });

  it('keeps "__proto__" as an ordinary key', () => {
    const [item] = parseJsonDocument('{"v": {"__proto__": {"x": 1}}}', {}).items;
    const value = (item as { value: Record<string, HclValue> }).value;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
  });
});

describe('parseJsonDocument: errors name line and column', () => {
  it.each<[string, string, number, number, string]>([
    ['an empty document', '', 1, 1, 'expected a value, found end of input'],
    ['an array document', '[1]', 1, 1, 'a JSON document must be an object'],
    ['a string document', '\n  "x"', 2, 3, 'a JSON document must be an object'],
    ['trailing content', '{"a": 1}\n x', 2, 2, 'unexpected character "x" after the end of the document'],
    ['a trailing comma in an object', '{"a": 1,\n}', 2, 1, 'expected a quoted key'],
    ['a trailing comma in an array', '{"a": [1,]}', 1, 10, 'expected a value'],
    ['an unquoted key', '{a: 1}', 1, 2, 'expected a quoted key'],
    ['a single-quoted string', "{\"a\": 'x'}", 1, 7, 'expected a value'],
    ['a missing colon', '{"a" 1}', 1, 6, 'expected \':\' after key "a"'],
    ['a missing comma', '{"a": 1\n "b": 2}', 2, 2, "expected ',' or '}'"],
    ['a missing comma in an array', '{"a": [1 2]}', 1, 10, "expected ',' or ']'"],
    ['an unterminated object', '{\n"a": 1', 1, 1, 'unterminated object'],
    ['an unterminated nested object', '{"a": {"b": 1}, "c": {', 1, 22, 'unterminated object'],
    ['an unterminated array', '{"a": [1, 2', 1, 7, 'unterminated array'],
    ['an unterminated string', '{"a": "xy', 1, 7, 'unterminated string'],
    ['a raw newline in a string', '{"a": "x\ny"}', 1, 7, 'unterminated string'],
    ['a raw tab in a string', '{"a": "x\ty"}', 1, 9, 'control character in string'],
    ['an invalid escape', '{"a": "x\\qy"}', 1, 9, 'invalid escape sequence "\\q"'],
    ['a short \\u escape', '{"a": "\\u12"}', 1, 8, 'invalid escape sequence "\\u"'],
    ['a leading zero', '{"a": 01}', 1, 8, "expected ',' or '}'"],
    ['a bare minus', '{"a": -}', 1, 7, 'expected a value'],
    ['a number out of range', '{"a": 1e999}', 1, 7, 'number out of range'],
    ['an unknown word', '{"a": yes}', 1, 7, 'expected a value'],
    ['null', '{"a": [1, null]}', 1, 11, 'null is not supported'],
    ['a duplicate key', '{\n  "a": 1,\n  "a": 2\n}', 3, 3, 'duplicate key "a" (first set at line 2, column 3)'],
    ['a duplicate nested key', '{"x": {"k": 1, "k": 1}}', 1, 16, 'duplicate key "k"'],
    ['a block that is a string', '{"path": "secret/*"}', 1, 10, '"path" must be an object'],
    ['a block body that is a list of strings', '{"path": {"a": ["read"]}}', 1, 17, '"path" must be an object'],
  ])('%s', (_name, text, line, column, reason) => {
    const err = syntaxError(text, { path: 1 });
    expect([err.line, err.column]).toEqual([line, column]);
    expect(err.reason).toContain(reason);
  });

  it(`accepts ${MAX_NESTING_DEPTH} levels and refuses deeper ones`, () => {
    const nest = (n: number) => `{"a": ${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`;
    expect(() => parseJsonDocument(nest(MAX_NESTING_DEPTH), {})).not.toThrow();
    const err = syntaxError(nest(MAX_NESTING_DEPTH + 1));
    expect([err.line, err.column, err.reason]).toEqual([1, 7 + MAX_NESTING_DEPTH - 1, expect.stringContaining('nesting too deep')]);
    expect(syntaxError(`{"a": ${'['.repeat(1_000_000)}`).reason).toContain('nesting too deep');
  });
});
