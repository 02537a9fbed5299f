import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkJsonLimits, type JsonLimits } from '../../lib/http/json-limits.js';
import { isApiError } from '../../lib/errors.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** JSON body limits (api.md §1): scanned before parsing, over a limit → 400 naming it. */

const LIMITS: JsonLimits = { maxDepth: 4, maxStringLength: 8, maxObjectEntries: 3, maxArrayElements: 3 };

function refusal(text: string, limits: JsonLimits = LIMITS): string | null {
  try {
    checkJsonLimits(Buffer.from(text, 'utf8'), limits);
    return null;
  } catch (err) {
    if (!isApiError(err, 'ERR_INVALID_JSON')) throw err;
    return err.message;
  }
}

describe('checkJsonLimits', () => {
  it.each<[string, string, string | null]>([
    ['depth at the limit', '{"a":[[{"b":1}]]}', null],
    ['depth one over', '{"a":[[{"b":[]}]]}', 'max_json_depth (4)'],
    ['brackets inside strings do not nest', '{"a":"[[[{{{"}', null],
    ['an escaped quote does not end a string', '{"a":"\\"[[[[[[[[\\""}', 'max_json_string_value_length (8)'],
    ['a string at the limit', '{"a":"12345678"}', null],
    ['a string one byte over', '{"a":"123456789"}', 'max_json_string_value_length (8)'],
    ['a key over the limit', '{"123456789":1}', 'max_json_string_value_length (8)'],
    ['bytes, not characters', '{"a":"ééééé"}', 'max_json_string_value_length (8)'],
    ['escapes count as written', '{"a":"\\n\\n\\n\\n\\n"}', 'max_json_string_value_length (8)'],
    ['entries at the limit', '{"a":1,"b":2,"c":3}', null],
    ['entries one over', '{"a":1,"b":2,"c":3,"d":4}', 'max_json_object_entry_count (3)'],
    ['commas in strings are not entries', '{"a":",,,,,,"}', null],
    ['elements at the limit', '{"a":[1,2,3]}', null],
    ['elements one over', '{"a":[1,2,3,4]}', 'max_json_array_element_count (3)'],
    ['nested containers count their own entries', '{"a":[1,2,3],"b":{"x":1,"y":2,"z":3},"c":[1,2,3]}', null],
    ['an unterminated string is left to the parser', '{"a":"123', null],
  ])('%s', (_name, text, expected) => {
    const message = refusal(text);
    if (expected === null) expect(message).toBeNull();
    else expect(message).toContain(expected);
  });

  it('stops at the limit on ten million nested arrays, long before the end', () => {
    const text = '['.repeat(10_000_000);
    const started = process.hrtime.bigint();
    expect(refusal(text, { ...LIMITS, maxDepth: 300 })).toContain('max_json_depth (300)');
    // Not a timing assertion on the product: it shows the scan returned at the limit.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
  });
});

describe('JSON limits at the HTTP edge', () => {
  let server: TestServer;
  let small: TestServer;
  const nested = (depth: number): string => `{"v":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

  beforeAll(async () => {
    server = await startTestServer();
    // Loose enough for the helper's own init and unseal bodies (a 64-digit key).
    small = await startTestServer({ listener: { maxJsonDepth: 3, maxJsonStringValueLength: 70, maxJsonObjectEntryCount: 2, maxJsonArrayElementCount: 2 } });
  });
  afterAll(async () => {
    await server?.close();
    await small?.close();
  });

  it.each(['secret/deep', 'cubbyhole/deep', 'auth/token/create', 'sys/policy/deep', 'sys/mounts/deep'])(
    'refuses 5,000 nested arrays written to %s with 400 naming max_json_depth, stores nothing',
    async (path) => {
      const res = await server.request('POST', `/v1/${path}`, { token: server.rootToken, body: nested(5_000) });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toContain('max_json_depth (300)');
      if (path.startsWith('secret/') || path.startsWith('cubbyhole/')) {
        expect((await server.request('GET', `/v1/${path}`, { token: server.rootToken })).status).toBe(404);
      }
    },
  );

  it('stores and reads back a body nested exactly 300 deep, on secret/ and cubbyhole/', async () => {
    for (const path of ['secret/at-limit', 'cubbyhole/at-limit']) {
      const body = nested(300);
      expect((await server.request('POST', `/v1/${path}`, { token: server.rootToken, body })).status).toBe(204);
      const read = await server.request('GET', `/v1/${path}`, { token: server.rootToken });
      expect(read.status).toBe(200);
      expect(JSON.stringify(read.body.data)).toBe(body);
    }
  });

  it('checks the limits before the token: a bad body without a token is 400, not 401', async () => {
    const res = await server.request('POST', '/v1/secret/x', { body: nested(400) });
    expect(res.status).toBe(400);
  });

  it.each<[string, string, string]>([
    ['max_json_depth', '{"a":{"b":{"c":{}}}}', 'max_json_depth (3)'],
    ['max_json_string_value_length', `{"a":"${'x'.repeat(71)}"}`, 'max_json_string_value_length (70)'],
    ['max_json_object_entry_count', '{"a":1,"b":2,"c":3}', 'max_json_object_entry_count (2)'],
    ['max_json_array_element_count', '{"a":[1,2,3]}', 'max_json_array_element_count (2)'],
  ])('takes %s from the listener config', async (_key, body, message) => {
    const res = await small.request('POST', '/v1/secret/limited', { token: small.rootToken, body });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toContain(message);
    expect((await small.request('POST', '/v1/secret/limited', { token: small.rootToken, body: `{"a":[1,2],"b":"${'x'.repeat(70)}"}` })).status).toBe(204);
  });
});
