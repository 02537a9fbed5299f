import { randomInt } from 'node:crypto';
import { seededRandom } from './faulty-storage.js';

/**
 * Seeded randomness for fuzz specs. One seed drives a whole run; every case draws from its
 * own generator, derived from (seed, part, case number), so a case is the same bytes in any
 * order and under any concurrency. The default seed is fixed, so the suite is the same run
 * every time; `NOMAD_FUZZ_SEED=<n>` replays another run, `NOMAD_FUZZ_SEED=random` explores a
 * new one, `NOMAD_FUZZ_CASES` makes it bigger, `NOMAD_FUZZ_CASE` runs one case alone.
 */

const DEFAULT_SEED = 20261201;

export interface FuzzSettings {
  seed: number;
  /** Cases per part and transport. */
  cases: number;
  /** Only this case number, when set (replaying one failure). */
  only: number | undefined;
  /** What to paste to replay this run. */
  replay: string;
}

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return value;
}

export function fuzzSettings(defaultCases: number): FuzzSettings {
  const seed = (process.env.NOMAD_FUZZ_SEED === 'random' ? randomInt(2 ** 31) : (envInt('NOMAD_FUZZ_SEED') ?? DEFAULT_SEED)) >>> 0;
  const cases = envInt('NOMAD_FUZZ_CASES') ?? defaultCases;
  const only = envInt('NOMAD_FUZZ_CASE');
  const replay = `NOMAD_FUZZ_SEED=${seed}${cases === defaultCases ? '' : ` NOMAD_FUZZ_CASES=${cases}`}`;
  return { seed, cases, only, replay };
}

export interface Rng {
  /** [0, 1) */
  float(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks by weight: `[[3, 'a'], [1, 'b']]` gives 'a' three times in four. */
  weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T;
  /** `length` characters drawn from `alphabet`. */
  string(length: number, alphabet?: string): string;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function createRng(seed: number): Rng {
  const next = seededRandom(seed);
  const rng: Rng = {
    float: next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    weighted: (choices) => {
      let roll = next() * choices.reduce((sum, [w]) => sum + w, 0);
      for (const [weight, value] of choices) {
        roll -= weight;
        if (roll < 0) return value;
      }
      return choices[choices.length - 1]![1];
    },
    string: (length, alphabet = ALNUM) => {
      let out = '';
      for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
      return out;
    },
  };
  return rng;
}

/** The generator of one case: independent of every other case's draws. */
export function caseRng(seed: number, part: string, index: number): Rng {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const ch of `${part}#${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return createRng(h);
}

/** The case numbers to run: all of them, or the one NOMAD_FUZZ_CASE names. */
export function caseNumbers(settings: FuzzSettings, count = settings.cases): number[] {
  if (settings.only !== undefined) return settings.only < count ? [settings.only] : [];
  return Array.from({ length: count }, (_, i) => i);
}

// ---- JSON text, written by hand so it can say what JSON.stringify never would ----

const NUMBERS = ['0', '-0', '1', '-1', '1.5', '1e400', '-1e400', '1e-400', '9007199254740993', '-9223372036854775808', '123456789012345678901234567890', '0.1e1', '1E+2', '2147483648', '4294967296'];
const WEIRD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', ' ', 'ttl', 'lease', 'policy', 'path', 'type', '\\u0000', 'a.b', 'a/b', '$ref'];
const STRING_PIECES = ['', 'a', 'secret', '\\u0000', '\\ud800', '\\udfff', '\\ud83d\\ude00', '😀', 'é', 'ﬀ', '\\u202e', '\\ufeff', '\\"', '\\\\', '\\n', '\\t', '%00', '%zz', '../', '*', '+', 'root', 'default', '1h', '-1s', '10000000h', 'true', 'null', ','];

export function jsonString(rng: Rng, maxPieces = 6): string {
  let out = '"';
  const pieces = rng.int(0, maxPieces);
  for (let i = 0; i < pieces; i++) out += rng.chance(0.5) ? rng.pick(STRING_PIECES) : rng.string(rng.int(1, 12));
  return `${out}"`;
}

/** Any JSON value as text, at most `depth` levels of containers below it. */
export function jsonValue(rng: Rng, depth = 3): string {
  const kind = rng.weighted<string>([[2, 'null'], [2, 'bool'], [4, 'number'], [5, 'string'], [depth > 0 ? 3 : 0, 'array'], [depth > 0 ? 3 : 0, 'object']]);
  switch (kind) {
    case 'null':
      return 'null';
    case 'bool':
      return rng.chance(0.5) ? 'true' : 'false';
    case 'number':
      return rng.chance(0.7) ? rng.pick(NUMBERS) : String(rng.int(-1e6, 1e6));
    case 'string':
      return jsonString(rng);
    case 'array':
      return `[${Array.from({ length: rng.int(0, 4) }, () => jsonValue(rng, depth - 1)).join(',')}]`;
    default:
      return jsonObject(rng, [], depth - 1);
  }
}

export function jsonObject(rng: Rng, keys: readonly string[], depth = 2): string {
  const entries: string[] = [];
  const count = rng.int(0, 5);
  for (let i = 0; i < count; i++) {
    const key = rng.chance(0.4) && keys.length > 0 ? `"${rng.pick(keys)}"` : rng.chance(0.5) ? `"${rng.pick(WEIRD_KEYS)}"` : jsonString(rng, 2);
    entries.push(`${key}:${jsonValue(rng, depth)}`);
  }
  return `{${entries.join(',')}}`;
}

/** Nesting `depth` containers deep (the body's own object counts as 1). */
export function nested(depth: number, rng: Rng): string {
  let open = '';
  let close = '';
  for (let i = 1; i < depth; i++) {
    if (rng.chance(0.5)) {
      open += '{"k":';
      close = `}${close}`;
    } else {
      open += '[';
      close = `]${close}`;
    }
  }
  return `{"deep":${open}1${close}}`;
}

const POLICY_TOKENS = ['path', '"secret/*"', '"secret/+/x"', '"*"', '""', '{', '}', '{', '}', 'capabilities', '=', '=', '[', ']', '"read"', '"list"', '"sudo"', '"deny"', '"bogus"', ',', 'policy', '"write"', '#', '//', '/*', '*/', '\n', '\n', '"', '\\', '+', '1h', '<<EOF', 'EOF', '0x', '-1', 'true', 'null', 'é', ':', '.', '[[', ']]'];

/** Policy text (a `policy` or `rules` field): HCL or JSON, mostly almost right. */
export function policyText(rng: Rng): string {
  if (rng.chance(0.3)) {
    const caps = Array.from({ length: rng.int(0, 3) }, () => rng.pick(['"read"', '"create"', '"sudo"', '"deny"', '1', 'null', '"x"'])).join(',');
    return rng.pick([
      `{"path":{"secret/${rng.string(3)}*":{"capabilities":[${caps}]}}}`,
      `{"path":{"":{"policy":"${rng.pick(['read', 'write', 'deny', 'sudo', 'bogus', ''])}"}}}`,
      `{"path":[${caps}]}`, '{"path":{"a":{"capabilities":{}}}}', `{"path":{"x":${jsonValue(rng, 2)}}}`, '{"path":null}', '[]',
    ]);
  }
  const base = `path "secret/${rng.string(3)}/*" {\n  capabilities = ["read", "list"]\n}\n`;
  if (rng.chance(0.3)) return base;
  const tokens = Array.from({ length: rng.int(1, 40) }, () => rng.pick(POLICY_TOKENS));
  return rng.chance(0.5) ? tokens.join(' ') : base.slice(0, rng.int(0, base.length)) + tokens.join(rng.pick([' ', '', '\n']));
}

/** A value of roughly the type a declared field wants (OpenAPI schema), or anything. */
export function fieldValue(rng: Rng, schema: { type?: string; items?: unknown; additionalProperties?: unknown; format?: string }, name = ''): string {
  if ((name === 'policy' || name === 'rules') && rng.chance(0.8)) return JSON.stringify(policyText(rng));
  if (rng.chance(0.35)) return jsonValue(rng, 2);
  switch (schema.format === 'duration' ? 'duration' : schema.type) {
    case 'duration':
      return rng.pick(['"1h"', '"30m"', '"0"', '"-5s"', '"1y"', '"h"', '3600', '-1', '1e400', '"999999999999h"', '""', '"1h30m"', '1.5']);
    case 'integer':
      return rng.pick(['0', '1', '3', '-1', '255', '256', '1e400', '"5"', '" "', '1.5', '9007199254740993', '"0x10"']);
    case 'boolean':
      return rng.pick(['true', 'false', '"true"', '"1"', '0', '1', '"yes"', 'null']);
    case 'array':
      return rng.pick([`[${jsonString(rng)}]`, '[]', '["a","b"]', '"a,b"', '[1]', '[null]', `[${jsonString(rng)},${jsonString(rng)}]`]);
    case 'object':
      return schema.additionalProperties ? rng.pick(['{}', '{"a":"b"}', '{"a":1}', `{${jsonString(rng)}:${jsonString(rng)}}`, '{"__proto__":"x"}']) : jsonObject(rng, [], 2);
    default:
      return jsonString(rng);
  }
}

export interface FieldSchemaLike {
  type?: string;
  format?: string;
  items?: unknown;
  additionalProperties?: unknown;
}

/**
 * A request body for a route with these declared fields: mostly an object of declared
 * fields with values of random types, sometimes past a listener JSON limit (depth 300,
 * 1 MiB strings, 10,000 entries), sometimes not an object or not JSON or not UTF-8 at all.
 */
export function randomBody(rng: Rng, fields: Record<string, FieldSchemaLike>): Buffer | undefined {
  const names = Object.keys(fields);
  const kind = rng.weighted<string>([
    [12, 'fields'], [3, 'object'], [1, 'empty'], [1, 'deep'], [1, 'wide'], [1, 'huge-string'],
    [2, 'not-object'], [2, 'not-json'], [1, 'not-utf8'], [1, 'duplicate'],
  ]);
  switch (kind) {
    case 'fields': {
      const picked = names.filter(() => rng.chance(0.7));
      const entries = picked.map((name) => `"${name}":${fieldValue(rng, fields[name]!, name)}`);
      if (rng.chance(0.3)) entries.push(`"${rng.pick(WEIRD_KEYS)}":${jsonValue(rng, 2)}`);
      return Buffer.from(`{${entries.join(',')}}`);
    }
    case 'object':
      return Buffer.from(jsonObject(rng, names, 3));
    case 'empty':
      return rng.pick([undefined, Buffer.alloc(0), Buffer.from('  \r\n'), Buffer.from('{}')]);
    case 'deep':
      return Buffer.from(nested(rng.pick([2, 299, 300, 301, 1000, 50_000]), rng));
    case 'wide': {
      const n = rng.pick([9_999, 10_000, 10_001]);
      if (rng.chance(0.5)) return Buffer.from(`{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`);
      return Buffer.from(`{"list":[${Array.from({ length: n }, (_, i) => i).join(',')}]}`);
    }
    case 'huge-string': {
      const n = rng.pick([1024 * 1024, 1024 * 1024 + 1, 64 * 1024]);
      const key = names.length > 0 && rng.chance(0.7) ? rng.pick(names) : 'big';
      return Buffer.from(`{"${key}":"${'x'.repeat(n)}"}`);
    }
    case 'not-object':
      return Buffer.from(rng.pick(['[]', '[{}]', '"str"', '1', 'null', 'true', '-0', '1e400']));
    case 'not-json':
      return Buffer.from(rng.pick(['{', '}', '{"a":}', '{"a":1}{"b":2}', "{'a':1}", '{"a":NaN}', '{"a":Infinity}', '{a:1}', '{"a":1,}', '{"a":1 // c\n}', '\ufeff{"a":1}', '{"a":"\u0001"}', '{"a":"x\n"}', '{"a":1}x', '{"\\x":1}', '{"a":"\\u12"}']));
    case 'not-utf8':
      return Buffer.concat([Buffer.from('{"a":"'), Buffer.from(rng.pick([[0xff], [0xc0, 0xaf], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]])), Buffer.from('"}')]);
    default: {
      const name = names.length > 0 ? rng.pick(names) : 'a';
      return Buffer.from(`{"${name}":${fieldValue(rng, fields[name] ?? {})},"${name}":${fieldValue(rng, fields[name] ?? {})}}`);
    }
  }
}
