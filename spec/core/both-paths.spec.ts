import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusOf } from '../../lib/errors.js';
import type { Request, Response } from '../../lib/core/request.js';
import { startCore, type TestCore } from '../helpers/core.js';

/**
 * The fast path (core/fast-path.ts) and the pipeline (core/pipeline.ts) must never disagree.
 * Each case runs down the pipeline alone and down the fast path; where the fast path answers,
 * its answer must be the pipeline's, and the table says where it must answer and where it
 * must step aside. So a decision changed in one path alone fails here: a fast path that
 * skipped a check would answer where the table wants it to step aside (or differ from the
 * pipeline), and a pipeline that skipped one would give a status the table does not expect.
 */

type Outcome = { status: number; response?: Response | null; message?: string };

let t: TestCore;
const tokens: Record<string, string> = {};

const request = (operation: Request['operation'], path: string, token: string, extra: Partial<Request> = {}): Request => ({
  id: 'both-paths',
  operation,
  path,
  data: {},
  query: {},
  clientToken: token,
  remoteAddress: '127.0.0.1',
  ...extra,
});

async function pipeline(req: Request): Promise<Outcome> {
  try {
    const response = await t.core.handleRequest(req);
    return { status: response === null ? (req.operation === 'read' || req.operation === 'list' ? 404 : 204) : (response.status ?? 200), response };
  } catch (err) {
    return { status: statusOf(err), message: (err as Error).message };
  }
}

beforeAll(async () => {
  t = await startCore();
  const root = t.rootToken;
  const write = (path: string, data: Record<string, unknown>) => t.core.handleRequest(request('update', path, root, { data }));
  await write('sys/policy/app-reader', { policy: 'path "secret/app/*" { capabilities = ["read", "list"] }\npath "secret/app/locked" { capabilities = ["deny"] }' });
  await write('sys/policy/lister', { policy: 'path "secret/app" { capabilities = ["list"] }' });
  await write('secret/app/db', { password: 'hunter2' });
  await write('secret/app/locked', { v: 1 });
  await write('secret/app/leased', { v: 2, ttl: '10h' });
  await write('secret/other', { v: 3 });
  await write('sys/mounts/short', { type: 'kv', config: { max_lease_ttl: '1h' } });
  await write('short/x', { v: 4, ttl: '10h' });
  // Every stored secret is read once, so it is in memory: a case denied by the ACL must be
  // denied by the ACL, not spared by a cold cache.
  for (const path of ['secret/app/db', 'secret/app/locked', 'secret/app/leased', 'secret/other', 'short/x']) {
    expect(await t.core.handleRequest(request('read', path, root))).not.toBeNull();
  }
  const make = async (name: string, params: Record<string, unknown>) => {
    const { token } = await t.core.tokenManager.create(null, { path: 'auth/token/create', policies: ['app-reader'], ...params }, true);
    tokens[name] = token;
  };
  tokens.root = root;
  await make('reader', {});
  await make('counted', { numUses: 5 });
  await make('expiring', {});
  await make('far', { boundCidrs: ['10.0.0.0/8'] });
  await make('lister', { policies: ['lister'] });
});

afterAll(async () => {
  await t.core.seal();
});

interface Case {
  name: string;
  req: () => Request;
  /** What the pipeline answers. */
  status: number;
  /** Whether the fast path must answer it (after a first request warmed every cache). */
  fast: boolean;
  before?: () => void | Promise<void>;
}

const cases: Case[] = [
  { name: 'root reads a cached secret', req: () => request('read', 'secret/app/db', tokens.root!), status: 200, fast: true },
  { name: 'a policy grants the read', req: () => request('read', 'secret/app/db', tokens.reader!), status: 200, fast: true },
  { name: 'the stored ttl is clamped by the mount maximum', req: () => request('read', 'short/x', tokens.root!), status: 200, fast: true },
  { name: 'the stored ttl within the server maximum', req: () => request('read', 'secret/app/leased', tokens.reader!), status: 200, fast: true },
  { name: 'no rule for the path', req: () => request('read', 'secret/other', tokens.reader!), status: 401, fast: false },
  { name: 'a deny rule', req: () => request('read', 'secret/app/locked', tokens.reader!), status: 401, fast: false },
  { name: 'a list capability is no read', req: () => request('read', 'secret/app/db', tokens.lister!), status: 401, fast: false },
  { name: 'nothing stored', req: () => request('read', 'secret/app/missing', tokens.reader!), status: 404, fast: false },
  { name: 'the mount root', req: () => request('read', 'secret/', tokens.root!), status: 400, fast: false },
  { name: 'no mount', req: () => request('read', 'nowhere/x', tokens.root!), status: 404, fast: false },
  { name: 'a token with counted uses', req: () => request('read', 'secret/app/db', tokens.counted!), status: 200, fast: false },
  { name: 'an unknown token', req: () => request('read', 'secret/app/db', 'not-a-token'), status: 401, fast: false },
  { name: 'no token', req: () => request('read', 'secret/app/db', ''), status: 401, fast: false },
  { name: 'a token used outside its CIDRs', req: () => request('read', 'secret/app/db', tokens.far!), status: 401, fast: false },
  { name: 'a token used inside its CIDRs', req: () => request('read', 'secret/app/db', tokens.far!, { remoteAddress: '10.1.1.1' }), status: 200, fast: true },
  { name: 'help', req: () => request('help', 'secret/app/db', tokens.reader!), status: 200, fast: false },
  { name: 'a list', req: () => request('list', 'secret/app', tokens.reader!), status: 200, fast: false },
  { name: 'a list granted on the folder name without its slash', req: () => request('list', 'secret/app', tokens.lister!), status: 200, fast: false },
  { name: 'an unsupported method', req: () => request('read', 'secret/app/db', tokens.reader!, { unsupportedMethod: 'PATCH' }), status: 405, fast: false },
  { name: 'a backend without a peek (cubbyhole)', req: () => request('read', 'cubbyhole/none', tokens.reader!), status: 404, fast: false },
  { name: 'a backend without a peek (sys)', req: () => request('read', 'sys/mounts', tokens.root!), status: 200, fast: false },
  {
    name: 'an expired token, still cached',
    before: () => {
      const entry = t.core.tokens.cached(tokens.expiring!);
      expect(entry).toBeDefined();
      entry!.expireTime = Date.now() - 1;
    },
    req: () => request('read', 'secret/app/db', tokens.expiring!),
    status: 401,
    fast: false,
  },
];

describe('the fast path and the pipeline', () => {
  for (const c of cases) {
    it(`agree: ${c.name}`, async () => {
      // Warm every cache the fast path reads: the token, the compiled ACL, the secret.
      if (c.name.includes('expired')) await pipeline(request('read', 'secret/app/db', tokens.expiring!));
      else await pipeline(c.req());
      await c.before?.();
      const fast = t.core.answerNow(c.req());
      const slow = await pipeline(c.req());
      expect(slow.status, slow.message).toBe(c.status);
      if (c.fast) {
        expect(fast, 'the fast path should have answered').toBeDefined();
        expect(fast).toEqual(slow.response);
      } else {
        expect(fast, 'the fast path should have stepped aside').toBeUndefined();
      }
    });
  }

  it('agree after a secret changes: the fast path never answers the old value', async () => {
    const read = () => request('read', 'secret/app/changing', tokens.root!);
    for (const value of ['one', 'two', 'three']) {
      await t.core.handleRequest(request('update', 'secret/app/changing', tokens.root!, { data: { value } }));
      // Right after the write nothing is cached: the fast path steps aside.
      expect(t.core.answerNow(read())).toBeUndefined();
      const slow = await pipeline(read());
      expect(slow.response?.dataJson).toBe(JSON.stringify({ value }));
      const fast = t.core.answerNow(read());
      expect(fast).toEqual(slow.response);
      expect(t.core.answerNow(read())).toEqual(slow.response);
    }
  });

  it('steps aside when sealed, where the pipeline answers 503', async () => {
    const req = request('read', 'secret/app/db', tokens.root!);
    expect(t.core.answerNow(req)).toBeDefined();
    await t.core.seal();
    expect(t.core.answerNow(req)).toBeUndefined();
    expect((await pipeline(req)).status).toBe(503);
  });
});
