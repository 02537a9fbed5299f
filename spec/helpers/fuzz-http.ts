import type { Rng } from './fuzz-random.js';

/**
 * Valid HTTP/1.1 requests, written as data, then mutated: structurally (headers duplicated
 * or dropped, framing contradicted, methods, versions and paths bent) and byte by byte
 * (flips, insertions, deletions). Each request says what a correct server may do with it,
 * so the fuzz spec can tell a wrong answer from an unusual one.
 */

export type Kind = 'write' | 'marker' | 'read' | 'delete';

export interface Draft {
  kind: Kind;
  method: string;
  target: string;
  version: string;
  headers: Array<[string, string]>;
  /** The body as the server will see it once unframed; framing is in `payload`. */
  body?: Buffer;
  /** The bytes after the head: the body, framed (Content-Length or chunks). */
  payload: Buffer;
  /** Strings byte mutations must leave alone (the write's unique token). */
  protect: string[];
  /** Writes: byte mutations leave the request line alone, so the method, path and query keep their meaning. */
  lockRequestLine: boolean;
  /** What the clean request is answered: a status, and for markers the id the body carries. */
  expect: { status: number; marker?: string };
  token?: string;
  /** The answer to this request may be the last one (Connection: close, HTTP/1.0). */
  closesAfter: boolean;
  /** A 2xx answer means the write ran: its final method and query still make it a write (settleWrite). */
  writes: boolean;
  /** It must not run (a denied path, an unknown method, `Expect: bogus`…). */
  mustNotRun: boolean;
  /** A mutation touched the version: 505 is a fair answer. */
  versionTouched: boolean;
  mutations: string[];
}

/** A request as sent, with what the judge needs to know about it. */
export type FuzzRequest = Pick<Draft, 'kind' | 'expect' | 'token' | 'closesAfter' | 'writes' | 'mustNotRun' | 'versionTouched' | 'mutations'> & {
  bytes: Buffer;
  /** Sent as built: no mutation at all. */
  clean: boolean;
};

export function header(d: Draft, name: string): number {
  return d.headers.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
}

function setHeader(d: Draft, name: string, value: string): void {
  const at = header(d, name);
  if (at === -1) d.headers.push([name, value]);
  else d.headers[at] = [d.headers[at]![0], value];
}

/** Frames `body` as chunks, cut at random places. */
export function chunked(body: Buffer, rng: Rng): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const size = Math.min(body.length - at, rng.int(1, Math.max(1, body.length)));
    const ext = rng.chance(0.1) ? ';ext=1' : '';
    parts.push(Buffer.from(`${size.toString(16)}${ext}\r\n`), body.subarray(at, at + size), Buffer.from('\r\n'));
    at += size;
  }
  parts.push(Buffer.from(rng.chance(0.1) ? '0\r\nX-Trailer: 1\r\n\r\n' : '0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Gives `d` this body, framed by Content-Length or by chunks. */
export function frame(d: Draft, body: Buffer, rng: Rng, chunks: boolean): void {
  d.body = body;
  if (chunks) {
    d.headers.push(['Transfer-Encoding', 'chunked']);
    d.payload = chunked(body, rng);
  } else {
    d.headers.push(['Content-Length', String(body.length)]);
    d.payload = body;
  }
}

export function serialize(d: Draft): Buffer {
  const head = `${d.method} ${d.target}${d.version === '' ? '' : ` ${d.version}`}\r\n${d.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), d.payload]);
}

// ---- structural mutations ----

const HEADERS_TOO_BIG = 20_000;
const METHODS = ['PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'LINK', 'BIND', 'LIS', 'LISTT', 'list', 'List', 'get', 'post', 'G', 'GETT', 'M-SEARCH', 'PURGE', 'X'];
const PATH_BENDS: Array<(path: string, rng: Rng) => string> = [
  (p) => p.replace('/v1/secret/', '/v1/secret/../'),
  (p) => p.replace('/v1/secret/', '/v1/secret/./'),
  (p) => p.replace('/v1/secret/', '/v1/secret/%2e%2e/'),
  (p) => p.replace('/v1/secret/', '/v1/secret/%2E/'),
  (p) => p.replace('/v1/secret/', '/v1/secret//'),
  (p) => p.replace('/v1/', '/v1//'),
  (p) => p.replace('/v1/', '//v1/'),
  (p) => p.replace('/v1/secret/', '/v1/%73ecret/'),
  (p) => p.replace('/v1/secret/', '/v1/secret%2F'),
  (p) => p.replace('/v1/secret/', '/v1/Secret/'),
  (p) => p.replace('/v1/', '/v1/../v1/'),
  (p) => p.replace('/v1/', '/V1/'),
  (p) => `${p}/`,
  (p) => `${p}%00`,
  (p) => `${p}%zz`,
  (p) => `${p}%`,
  (p) => `${p}%C0%AF`,
  (p) => `${p}%ff`,
  (p) => `${p}#frag`,
  (p) => `${p};param`,
  (p) => `${p}\\x`,
  (p) => `${p}%E2%80%AE`,
  (p, rng) => `${p}${rng.pick(['é', '\u00ff', '\u0080'])}`,
  (p) => p.replace(/^\//, ''),
  (p) => `*${p}`,
];
const QUERY_PARTS = ['list=true', 'list=1', 'list=', 'list=maybe', 'list=TRUE', 'help=1', 'help=0', 'help=true', 'help=x', 'help=', 'help=%31', 'x=y', '%zz', '&', '=', 'a=%', 'ttl=1h', 'version=2', 'cas=0', 'list=false&list=true', 'help', '%00=%00', 'a=b=c', '?'];

/** The `help` flag as the server reads it from a query (null: absent or false; 'bad': a 400). */
export function helpFlag(target: string): 'help' | 'bad' | null {
  const q = target.indexOf('?');
  if (q === -1) return null;
  const value = new URLSearchParams(target.slice(q + 1).split('#')[0]).get('help');
  if (value === null) return null;
  const v = value.toLowerCase();
  if (v === '' || v === 'false' || v === '0') return null;
  return v === 'true' || v === '1' ? 'help' : 'bad';
}

type Mutation = (d: Draft, rng: Rng) => string;

const MUTATIONS: ReadonlyArray<readonly [number, Mutation]> = [
  [3, (d, rng) => {
    if (d.headers.length === 0) return 'dup-header(none)';
    const [name, value] = rng.pick(d.headers);
    const other = rng.chance(0.5) ? value : rng.pick(['0', '1', '', 'chunked', 'x', `${value}x`]);
    d.headers.splice(rng.int(0, d.headers.length), 0, [name, other]);
    return `dup-header ${name}: ${other}`;
  }],
  [3, (d, rng) => {
    if (d.headers.length === 0) return 'drop-header(none)';
    const [[name]] = d.headers.splice(rng.int(0, d.headers.length - 1), 1);
    return `drop-header ${name}`;
  }],
  [3, (d, rng) => {
    const length = d.body?.length ?? 0;
    const value = rng.pick(['0', String(length + 1), String(Math.max(0, length - 1)), '-1', '+5', '0x10', ` ${length}`, `${length} `, `${length}, ${length}`, '1,2', '99999999999999999999', '', 'abc', `${length}\0`, '33554433']);
    setHeader(d, 'Content-Length', value);
    return `content-length ${JSON.stringify(value)}`;
  }],
  [3, (d, rng) => {
    const value = rng.pick(['chunked', 'gzip, chunked', 'chunked, gzip', 'identity', 'Chunked', ' chunked', 'chunked\t', 'x', 'chunked, chunked', '']);
    if (rng.chance(0.5)) d.headers.push(['Transfer-Encoding', value]);
    else setHeader(d, 'Transfer-Encoding', value);
    if (rng.chance(0.5) && d.body) d.payload = chunked(d.body, rng);
    return `transfer-encoding ${JSON.stringify(value)}`;
  }],
  [2, (d, rng) => {
    const body = d.body ?? Buffer.from('{}');
    const flaw = rng.pick(['zz\r\n', 'ffffffffffffffffff\r\n', '-1\r\n', `${(body.length + 5).toString(16)}\r\n`, `1;${'e'.repeat(20_000)}\r\n`, '\r\n', '0x5\r\n', `${body.length.toString(16)}\n`]);
    d.payload = rng.chance(0.5)
      ? Buffer.concat([Buffer.from(flaw), body, Buffer.from('\r\n0\r\n\r\n')])
      : Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from(rng.pick(['\r\n', '\r\n0\r\n', 'XX', '\r\n0\r\nbad trailer\r\n\r\n', '\r\n1\r\n']))]);
    setHeader(d, 'Transfer-Encoding', 'chunked');
    return `bad-chunks ${JSON.stringify(flaw.slice(0, 24))}`;
  }],
  [2, (d, rng) => {
    const size = rng.pick([HEADERS_TOO_BIG, 8_000, 70_000]);
    if (rng.chance(0.5)) d.headers.push(['X-Huge', 'h'.repeat(size)]);
    else for (let i = 0; i < size / 10; i++) d.headers.push([`X-H${i}`, 'v']);
    return `huge-headers ${size}`;
  }],
  [2, (d, rng) => {
    const at = rng.int(0, d.headers.length);
    d.headers.splice(at, 0, [rng.pick(['X-Fold', 'Host', 'Content-Length']), rng.pick(['a\r\n b', 'a\r\n\tb', '\r\n x', '1\r\n 0'])]);
    return 'obs-fold';
  }],
  [2, (d, rng) => {
    const where = rng.pick(['value', 'name', 'target']);
    if (where === 'target') d.target += '\0';
    else if (d.headers.length > 0) {
      const i = rng.int(0, d.headers.length - 1);
      const [n, v] = d.headers[i]!;
      d.headers[i] = where === 'name' ? [`${n}\0`, v] : [n, `${v}\0x`];
    }
    return `nul in ${where}`;
  }],
  [3, (d, rng) => {
    const method = rng.pick(METHODS);
    const was = d.method;
    d.method = method;
    return `method ${was} -> ${JSON.stringify(method)}`;
  }],
  [1, (d) => {
    if (d.kind === 'write') d.method = d.method === 'POST' ? 'PUT' : 'POST';
    else if (d.method === 'LIST') {
      d.method = 'GET';
      d.target += d.target.includes('?') ? '&list=true' : '?list=true';
    }
    return `method swap -> ${d.method}`;
  }],
  [2, (d, rng) => {
    d.version = rng.pick(['HTTP/1.0', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/1.10', 'http/1.1', 'HTTP/1', 'HTTP/11', '', 'HTTP/1.1 ', 'HTTP/3.0']);
    d.versionTouched = true;
    if (d.version === 'HTTP/1.0') d.closesAfter = true;
    return `version ${JSON.stringify(d.version)}`;
  }],
  [2, (d, rng) => {
    d.target = `${rng.pick(['http://127.0.0.1', 'https://127.0.0.1:8200', 'http://example.com', 'HTTP://x'])}${d.target}`;
    return 'absolute-form';
  }],
  [4, (d, rng) => {
    const bend = rng.pick(PATH_BENDS);
    const q = d.target.indexOf('?');
    const path = q === -1 ? d.target : d.target.slice(0, q);
    d.target = bend(path, rng) + (q === -1 ? '' : d.target.slice(q));
    return `path ${JSON.stringify(d.target.slice(0, 80))}`;
  }],
  [4, (d, rng) => {
    const parts = Array.from({ length: rng.int(1, 3) }, () => rng.pick(QUERY_PARTS));
    d.target += (d.target.includes('?') ? '&' : '?') + parts.join('&');
    return `query ${JSON.stringify(parts.join('&'))}`;
  }],
  [2, (d, rng) => {
    const value = rng.pick(['100-continue', '100-Continue', 'bogus', '100-continue, bogus', '']);
    d.headers.push(['Expect', value]);
    return `expect ${JSON.stringify(value)}`;
  }],
  [2, (d, rng) => {
    const variant = rng.pick(['close', 'keep-alive', 'upgrade', 'Close', 'close, close']);
    if (variant === 'upgrade') d.headers.push(['Connection', 'Upgrade'], ['Upgrade', rng.pick(['websocket', 'h2c', 'HTTP/2.0'])]);
    else d.headers.push(['Connection', variant]);
    d.closesAfter = true;
    return `connection ${variant}`;
  }],
  [2, (d, rng) => {
    const at = header(d, 'X-Nomad-Token');
    const value = rng.pick(['', 'nope', '00000000-0000-4000-8000-000000000000', ' ', 'a'.repeat(5000)]);
    if (at !== -1) d.headers[at] = ['X-Nomad-Token', value];
    else d.headers.push([rng.pick(['X-Vault-Token', 'Authorization', 'Cookie']), value]);
    return `token ${JSON.stringify(value.slice(0, 40))}`;
  }],
  [1, (d, rng) => {
    d.headers = d.headers.map(([n, v]) => [rng.chance(0.5) ? n.toUpperCase() : n.toLowerCase(), v]);
    return 'header-case';
  }],
  [1, (d, rng) => {
    const at = rng.int(0, d.headers.length);
    d.headers.splice(at, 0, [rng.pick(['Host ', ' Host', 'Bad Name', 'Content-Length ', '', ':x', 'X-Ü']), 'v']);
    return 'bad header name';
  }],
  [1, (d, rng) => {
    d.method = `${rng.pick(['\r\n', '\r\n\r\n', ' ', '\n', '\t'])}${d.method}`;
    return 'junk before the request line';
  }],
  [1, (d) => {
    if (header(d, 'Host') !== -1) d.headers.splice(header(d, 'Host'), 1);
    return 'no Host';
  }],
];

// ---- byte mutations ----

const SPECIAL_BYTES = [0x00, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x25, 0x7f, 0x80, 0xff, 0x2f, 0x3f, 0x23, 0x2c, 0x22, 0x7b, 0x7d];

function lockedRanges(bytes: Buffer, d: Draft): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const text of d.protect) {
    for (let at = bytes.indexOf(text); at !== -1; at = bytes.indexOf(text, at + 1)) ranges.push([at, at + text.length]);
  }
  if (d.lockRequestLine) {
    const end = bytes.indexOf('\r\n');
    ranges.push([0, end === -1 ? bytes.length : end + 2]);
  }
  return ranges;
}

/** One byte mutation at a place no locked range covers (inserting right next to one is fine, except at the very start). */
function mutateBytes(bytes: Buffer, d: Draft, rng: Rng): { bytes: Buffer; note: string } {
  const locked = lockedRanges(bytes, d);
  for (let attempt = 0; attempt < 20; attempt++) {
    const op = rng.pick(['flip', 'flip', 'insert', 'delete', 'lf', 'dup']);
    const at = rng.int(0, Math.max(0, bytes.length - 1));
    const span = op === 'insert' ? 0 : rng.int(1, 3);
    const clash = locked.some(([s, e]) => (op === 'insert' ? at > s && at < e : at < e && at + span > s)) || (op === 'insert' && at === 0 && locked.some(([s]) => s === 0));
    if (clash || bytes.length === 0) continue;
    const byte = (): number => (rng.chance(0.6) ? rng.pick(SPECIAL_BYTES) : rng.int(0, 255));
    switch (op) {
      case 'flip': {
        const out = Buffer.from(bytes);
        out[at] = byte();
        return { bytes: out, note: `flip@${at}=0x${out[at]!.toString(16)}` };
      }
      case 'insert': {
        const extra = Buffer.from(Array.from({ length: rng.int(1, 3) }, byte));
        return { bytes: Buffer.concat([bytes.subarray(0, at), extra, bytes.subarray(at)]), note: `insert@${at}=${extra.toString('hex')}` };
      }
      case 'delete':
        return { bytes: Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + span)]), note: `delete@${at}+${span}` };
      case 'lf': {
        const cr = bytes.indexOf('\r\n', at);
        if (cr === -1 || locked.some(([s, e]) => cr >= s && cr < e)) continue;
        return { bytes: Buffer.concat([bytes.subarray(0, cr), bytes.subarray(cr + 1)]), note: `bare-lf@${cr}` };
      }
      default:
        return { bytes: Buffer.concat([bytes.subarray(0, at + span), bytes.subarray(at, at + span), bytes.subarray(at + span)]), note: `dup@${at}+${span}` };
    }
  }
  return { bytes, note: 'no-op' };
}

/**
 * What a mutated write may still do, read off the final draft: it runs only as POST or PUT
 * (leading blank lines are skipped by the parser), not as a help request, and not when an
 * expectation is refused: node honours Expect on HTTP/1.1 only, joins repeated ones, and
 * takes any list holding 100-continue (RFC 9110 §10.1.1 allows that). Byte mutations may
 * have renamed the Expect header, so it only counts when there were none.
 */
function settleWrite(d: Draft, byteMutated: boolean): void {
  const method = d.method.replace(/^[\r\n]+/, '');
  const help = helpFlag(d.target) !== null;
  const expect = d.headers.filter(([n]) => n.toLowerCase() === 'expect').map(([, v]) => v);
  const refused = d.version === 'HTTP/1.1' && expect.length > 0 && !/(?:^|\W)100-continue(?:$|\W)/i.test(expect.join(', '));
  const writeMethod = method === 'POST' || method === 'PUT';
  d.writes = writeMethod && !help;
  d.mustNotRun ||= !writeMethod || help || (refused && !byteMutated);
}

/** The request as sent: clean, or with one to three mutations of either kind. */
export function finish(d: Draft, rng: Rng, mutationRate: number): FuzzRequest {
  let bytes: Buffer | undefined;
  if (rng.chance(mutationRate)) {
    const count = rng.weighted([[6, 1], [3, 2], [1, 3]]);
    const structural = Array.from({ length: count }, () => rng.chance(0.6));
    for (const s of structural) if (s) d.mutations.push(rng.weighted(MUTATIONS)(d, rng));
    bytes = serialize(d);
    for (const s of structural) {
      if (s) continue;
      const { bytes: out, note } = mutateBytes(bytes, d, rng);
      bytes = out;
      d.mutations.push(note);
      if (!d.lockRequestLine) d.versionTouched = true;
    }
    if (d.kind === 'write') settleWrite(d, structural.some((s) => !s));
  }
  bytes ??= serialize(d);
  return {
    kind: d.kind,
    bytes,
    clean: d.mutations.length === 0,
    expect: d.expect,
    token: d.token,
    closesAfter: d.closesAfter,
    writes: d.writes,
    mustNotRun: d.mustNotRun,
    versionTouched: d.versionTouched,
    mutations: d.mutations,
  };
}
