import { connectRaw, type RawResponse } from './raw-http.js';
import type { FuzzRequest } from './fuzz-http.js';
import type { Rng } from './fuzz-random.js';

/**
 * What a fuzzed answer must look like (api.md §1–§3), and the driver and judge of one fuzzed
 * connection: every answer well-formed, errors in the envelope, nothing ≥ 500, answers in
 * order and never more than asked for, no hang, and no request executed whose answer was an
 * error or that was never answered.
 */

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
  statusLine?: string;
  headerLines?: string[];
}

export interface AnswerRules {
  /** A status ≥ 500 the request asked for (sys/health's `activecode`, 505 for a bent version). */
  allowStatus?: (status: number) => boolean;
  /** Answers that stay raw (sys/health): no error envelope. */
  raw?: boolean;
  /** HEAD: no body whatever the headers say. */
  head?: boolean;
  /** A binary file (sys/storage/snapshot's 200): application/octet-stream starting with its magic, not JSON. */
  binary?: { contentType: string; magic: string };
  /** Strings no error message may contain (tokens). */
  secrets?: readonly string[];
}

const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function answerProblems(res: Answer, rules: AnswerRules = {}): string[] {
  const problems: string[] = [];
  const h = (name: string): string | undefined => {
    const v = res.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  if (res.statusLine !== undefined && !/^HTTP\/1\.1 [1-5]\d\d [^\r\n]*$/.test(res.statusLine)) problems.push(`bad status line ${JSON.stringify(res.statusLine)}`);
  for (const line of res.headerLines ?? []) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !TOKEN_CHARS.test(line.slice(0, colon)) || /[\0\r\n]/.test(line)) problems.push(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (res.headerLines && res.headerLines.filter((l) => /^content-length:/i.test(l)).length > 1) problems.push('more than one Content-Length');
  if (res.headerLines?.some((l) => /^transfer-encoding:/i.test(l))) problems.push('a chunked answer (every answer has a length)');
  if (res.status >= 500 && !rules.allowStatus?.(res.status)) problems.push(`status ${res.status}`);
  if (h('cache-control') !== 'no-store') problems.push(`Cache-Control ${JSON.stringify(h('cache-control'))}`);
  if (!REQUEST_ID.test(h('x-request-id') ?? '')) problems.push(`X-Request-Id ${JSON.stringify(h('x-request-id'))}`);
  if (res.status === 204) {
    if (res.text !== '') problems.push('204 with a body');
  } else if (rules.binary && !rules.head) {
    if (h('content-type') !== rules.binary.contentType) problems.push(`Content-Type ${JSON.stringify(h('content-type'))}`);
    if (!res.text.startsWith(rules.binary.magic)) problems.push(`binary body without its magic: ${JSON.stringify(res.text.slice(0, 40))}`);
  } else if (!rules.head) {
    if (res.headerLines && h('content-length') === undefined) problems.push('no Content-Length');
    if (h('content-type') !== 'application/json') problems.push(`Content-Type ${JSON.stringify(h('content-type'))}`);
    if (res.body === undefined) problems.push(`body is not JSON: ${JSON.stringify(res.text.slice(0, 120))}`);
  }
  if (res.status >= 400 && !rules.raw && !rules.head) {
    const errors = res.body?.errors;
    if (!Array.isArray(errors) || errors.length === 0 || !errors.every((e: unknown) => typeof e === 'string' && e !== '')) {
      problems.push(`no error envelope: ${JSON.stringify(res.text.slice(0, 120))}`);
    } else {
      for (const e of errors as string[]) {
        if (/\n\s+at /.test(e)) problems.push('a stack trace in an error message');
        for (const s of rules.secrets ?? []) if (s !== '' && e.includes(s)) problems.push('a token in an error message');
      }
    }
  }
  if (res.body && typeof res.body === 'object' && typeof res.body.request_id === 'string' && res.body.request_id !== h('x-request-id')) {
    problems.push('envelope request_id differs from X-Request-Id');
  }
  return problems;
}

// ---- one connection ----

export interface Driven {
  responses: RawResponse[];
  /** The server closed before the client half-closed. */
  serverClosed: boolean;
  /** Why the connection is judged hung, if it is. */
  hung?: string;
  probe?: RawResponse;
  leftover: string;
  interim: readonly number[];
  /** The client half-closed right after its last byte. */
  finEarly?: boolean;
}

export interface DriveOptions {
  url: string;
  ca?: string | Buffer;
  /** The most a request that must be answered may take. */
  hangMs: number;
  /** Quiet this long with more answers possible: the client half-closes. */
  idleMs: number;
  probe: Buffer;
  /** Half-close right after the last byte, as some clients do, instead of after a quiet spell. */
  finEarly?: boolean;
}

/** How many leading requests must be answered whatever comes after them: the clean ones, up to the first that may close. */
export function mustAnswer(requests: FuzzRequest[]): number {
  let n = 0;
  for (const r of requests) {
    if (!r.clean) break;
    n++;
    if (r.closesAfter) break;
  }
  return n;
}

/**
 * Where to cut the stream into writes: nowhere, at random offsets, or at each request's
 * start and a few bytes into its method (so `LI` | `ST /v1/…` arrive apart).
 */
export function cutPoints(requests: FuzzRequest[], rng: Rng): number[] {
  const total = requests.reduce((sum, r) => sum + r.bytes.length, 0);
  const style = rng.weighted<string>([[3, 'one'], [4, 'random'], [3, 'methods'], [1, 'bytes']]);
  const cuts = new Set<number>();
  if (style === 'random') for (let i = rng.int(1, 6); i > 0; i--) cuts.add(rng.int(1, Math.max(1, total - 1)));
  if (style === 'methods') {
    let at = 0;
    for (const r of requests) {
      if (at > 0) cuts.add(at);
      if (rng.chance(0.6)) cuts.add(at + rng.int(1, 4));
      at += r.bytes.length;
    }
  }
  if (style === 'bytes') {
    const from = rng.int(0, Math.max(0, total - 40));
    for (let i = 1; i <= 30; i++) cuts.add(from + i);
  }
  return [...cuts].filter((c) => c > 0 && c < total).sort((a, b) => a - b);
}

export async function drive(requests: FuzzRequest[], rng: Rng, options: DriveOptions): Promise<Driven> {
  const c = await connectRaw(options.url, { ca: options.ca });
  try {
    const stream = Buffer.concat(requests.map((r) => r.bytes));
    const cuts = cutPoints(requests, rng);
    const pauses = cuts.map(() => rng.int(0, 2));
    const writing = (async () => {
      let from = 0;
      for (const [i, cut] of [...cuts, stream.length].entries()) {
        if (c.closed) return;
        try {
          await c.write(stream.subarray(from, cut));
        } catch {
          return; // the server closed: what it answered is what counts
        }
        from = cut;
        if (i < cuts.length) await new Promise((resolve) => setTimeout(resolve, pauses[i]));
      }
    })();
    const responses: RawResponse[] = [];
    let serverClosed = false;
    const pull = async (timeoutMs: number): Promise<'ok' | 'closed' | 'timeout'> => {
      try {
        responses.push(await c.next(timeoutMs));
        return 'ok';
      } catch {
        return c.closed ? 'closed' : 'timeout';
      }
    };
    if (options.finEarly) {
      await Promise.race([writing, new Promise((resolve) => setTimeout(resolve, options.hangMs))]);
      c.end();
      try {
        responses.push(...(await c.untilClosed(options.hangMs)));
        return { responses, serverClosed: false, leftover: c.leftover(), interim: c.interim, finEarly: true };
      } catch {
        return { responses, serverClosed: false, finEarly: true, hung: `the server did not close within ${options.hangMs} ms after the client half-closed`, leftover: c.leftover(), interim: c.interim };
      }
    }
    const required = mustAnswer(requests);
    while (responses.length < required) {
      const got = await pull(options.hangMs);
      if (got === 'closed') serverClosed = true;
      if (got === 'timeout') return { responses, serverClosed, hung: `request ${responses.length} (clean, complete) got no answer within ${options.hangMs} ms`, leftover: c.leftover(), interim: c.interim };
      if (got !== 'ok') break;
    }
    await Promise.race([writing, new Promise((resolve) => setTimeout(resolve, options.hangMs))]);
    while (!serverClosed) {
      const got = await pull(options.idleMs);
      if (got === 'closed') serverClosed = true;
      if (got !== 'ok') break;
    }
    let probe: RawResponse | undefined;
    let hung: string | undefined;
    const allClean = requests.every((r) => r.clean && !r.closesAfter);
    if (!serverClosed && allClean) {
      await c.write(options.probe).catch(() => {});
      try {
        probe = await c.next(options.hangMs);
      } catch {
        hung = `every request was answered, then a health probe on the same connection got nothing within ${options.hangMs} ms`;
      }
    }
    if (!serverClosed && !c.closed) {
      c.end();
      try {
        responses.push(...(await c.untilClosed(options.hangMs)));
      } catch {
        hung ??= `the server did not close within ${options.hangMs} ms after the client half-closed`;
      }
    } else if (!serverClosed) serverClosed = true;
    return { responses, serverClosed, hung, probe, leftover: c.leftover(), interim: c.interim };
  } finally {
    c.close();
  }
}

// ---- the judge ----

export function markerOf(res: RawResponse): string | undefined {
  if (res.status !== 200) return undefined;
  const data = res.body?.data;
  if (typeof data?.m === 'string') return data.m;
  if (Array.isArray(data?.keys) && data.keys.length === 1 && typeof data.keys[0] === 'string' && data.keys[0].startsWith('x')) return data.keys[0].slice(1);
  return undefined;
}

export interface Verdict {
  problems: string[];
  /** Per request: the index of its answer, when the order pins it down. */
  answerAt: Array<number | undefined>;
}

/**
 * Ties answers to requests. A request's first answer is pinned when everything before it
 * was clean and answered (so the server's parse of it starts where ours does), or when it is
 * a marker whose answer carries its id. A request that follows a pinned marker ends where
 * that marker's request starts: the answer just before the marker's is its own.
 */
export function judge(requests: FuzzRequest[], driven: Driven, stored: ReadonlySet<string>, rules: AnswerRules): Verdict {
  const problems: string[] = [];
  const { responses } = driven;
  const mutated = requests.some((r) => !r.clean);
  const versionTouched = requests.some((r) => r.versionTouched);
  const allow = (s: number): boolean => (versionTouched && s === 505) || (rules.allowStatus?.(s) ?? false);
  if (driven.hung) problems.push(`hang: ${driven.hung}`);
  responses.forEach((res, i) => {
    for (const p of answerProblems(res, { ...rules, allowStatus: allow })) problems.push(`answer ${i} (${res.status}): ${p}`);
  });
  if (driven.probe) {
    if (driven.probe.status !== 200) problems.push(`the health probe was answered ${driven.probe.status}`);
    for (const p of answerProblems(driven.probe, { raw: true })) problems.push(`the health probe's answer: ${p}`);
  }
  if (driven.leftover !== '') problems.push(`bytes after the last whole answer: ${JSON.stringify(driven.leftover.slice(0, 200))}`);
  if (driven.interim.some((s) => s !== 100)) problems.push(`interim answers ${driven.interim.join(',')}`);
  const limit = requests.length + (mutated ? 1 : 0);
  if (responses.length > limit) problems.push(`${responses.length} answers to ${requests.length} requests`);

  const markerIndex = new Map<string, number>();
  requests.forEach((r, k) => r.expect.marker !== undefined && markerIndex.set(r.expect.marker, k));
  const pinned = new Map<number, number>(); // request → answer
  let last = -1;
  responses.forEach((res, j) => {
    const id = markerOf(res);
    const k = id === undefined ? undefined : markerIndex.get(id);
    if (k === undefined) return;
    if (pinned.has(k)) problems.push(`marker request ${k} answered twice`);
    if (k <= last) problems.push(`answers out of order: request ${k}'s answer (${j}) comes after request ${last}'s`);
    if (j > k) problems.push(`request ${k} answered at ${j}: more answers than requests before it`);
    pinned.set(k, j);
    last = Math.max(last, k);
  });

  const answerAt: Array<number | undefined> = [];
  let chain: number | undefined = -1; // answer index of the last request, when everything so far is clean and pinned
  let mayStop = false;
  requests.forEach((r, k) => {
    const at = pinned.get(k) ?? (chain === undefined ? undefined : chain + 1);
    answerAt.push(at);
    if (r.clean && at !== undefined) {
      const res = responses[at];
      if (res === undefined) {
        if (!mayStop) problems.push(`request ${k} (clean, ${r.kind}) was never answered${driven.serverClosed ? ': the server closed' : ''}`);
        chain = undefined;
      } else {
        if (res.status !== r.expect.status) problems.push(`request ${k} (clean, ${r.kind}) answered ${res.status}, expected ${r.expect.status}: ${res.text.slice(0, 160)}`);
        if (r.expect.marker !== undefined && markerOf(res) !== r.expect.marker) problems.push(`request ${k} (clean marker ${r.expect.marker}) got another answer: ${res.text.slice(0, 160)}`);
        chain = at;
      }
    } else chain = undefined;
    if (r.closesAfter) mayStop = true;
  });

  requests.forEach((r, k) => {
    if (r.kind !== 'write' || r.token === undefined) return;
    const ran = stored.has(r.token);
    const what = `write ${k} [${r.mutations.join('; ') || 'clean'}]`;
    if (ran && r.mustNotRun) problems.push(`${what} ran though it must not`);
    const candidates: Array<[string, number]> = [];
    const start = answerAt[k];
    if (start !== undefined) candidates.push(['its place in order', start]);
    const next = pinned.get(k + 1);
    if (next !== undefined) candidates.push(['the answer before the next marker', next - 1]);
    for (const [how, at] of candidates) {
      const res = at >= 0 ? responses[at] : undefined;
      const isMarker = res !== undefined && markerOf(res) !== undefined && markerIndex.has(markerOf(res)!);
      const ok = res !== undefined && !isMarker && res.status >= 200 && res.status < 300;
      if (ran && !ok) problems.push(`${what} was executed but its answer (${how}) is ${res === undefined ? 'missing' : isMarker ? 'another request\'s' : res.status}`);
      if (!ran && ok && r.writes) problems.push(`${what} was answered ${res!.status} (${how}) but not executed`);
    }
    if (candidates.length === 0 && ran && !responses.some((res) => res.status >= 200 && res.status < 300 && markerOf(res) === undefined)) {
      problems.push(`${what} was executed but no answer is a success`);
    }
  });

  if (driven.serverClosed) {
    const lastAnswer = responses[responses.length - 1];
    if (lastAnswer === undefined) problems.push('the server closed the connection without answering anything');
    else if (lastAnswer.status < 400 && lastAnswer.headers.connection !== 'close') {
      problems.push(`the server closed after a ${lastAnswer.status} without Connection: close`);
    }
  }
  return { problems, answerAt };
}
