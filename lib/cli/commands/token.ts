import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { flagBool, flagString, UsageError } from '../flags.js';
import { authRows, cell, keyValueTable, payload } from '../output.js';
import { responseTable } from '../render.js';

/** `token ...`: the token store at auth/token/ (api.md §8). */

/**
 * The caller of lookup or renew already holds the token it names, so the answer's copy of it
 * (lookup's data.id, renew's auth.client_token) is blanked in every output format: only
 * commands whose purpose is to hand a token out print one.
 */
function withoutToken(body: any): any {
  if (!body || typeof body !== 'object') return body;
  const copy = { ...body };
  if (copy.data && typeof copy.data === 'object' && 'id' in copy.data) copy.data = { ...copy.data, id: '' };
  if (copy.auth && typeof copy.auth === 'object' && 'client_token' in copy.auth) copy.auth = { ...copy.auth, client_token: '' };
  return copy;
}

const create = defineCommand({
  name: 'token create',
  synopsis: 'Create a token',
  args: '',
  description: `POSTs auth/token/create (auth/token/create-orphan with -orphan). The new token is a
child of the caller's: revoking the caller's revokes it. A non-root caller may give it
only a subset of its own policies. Prints the new token, the one place it is shown.`,
  example: '$ nomad-api token create -policy=app -ttl=1h\n$ nomad-api token create -policy=app -format=json',
  flags: {
    policy: { type: 'string', repeatable: true, description: "A policy of the new token; repeatable. Default: the caller's." },
    ttl: { type: 'string', description: 'Its lifetime, e.g. 1h (default: the default lease TTL).' },
    'explicit-max-ttl': { type: 'string', description: 'A limit renewals can never pass.' },
    period: { type: 'string', description: 'Make it periodic: each renewal resets its TTL to this.' },
    'num-uses': { type: 'string', description: 'How many requests it may make (0: unlimited).', default: '0' },
    'display-name': { type: 'string', description: 'A name for humans.' },
    metadata: { type: 'string', repeatable: true, description: 'key=value metadata; repeatable.' },
    renewable: { type: 'bool', description: 'Whether it can be renewed.', default: 'true' },
    'no-default-policy': { type: 'bool', description: 'Do not attach the default policy.', default: 'false' },
    orphan: { type: 'bool', description: 'Create it without a parent (needs root or sudo).', default: 'false' },
  },
  maxArgs: 0,
  async run(ctx) {
    const f = ctx.flags;
    const body: Record<string, unknown> = {};
    if (f.values.policy) body.policies = f.values.policy.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean);
    for (const [flag, field] of [['ttl', 'ttl'], ['explicit-max-ttl', 'explicit_max_ttl'], ['period', 'period'], ['display-name', 'display_name']] as const) {
      const value = flagString(f, flag);
      if (value !== undefined) body[field] = value;
    }
    const uses = flagString(f, 'num-uses');
    if (uses !== undefined) {
      if (!/^\d+$/.test(uses)) throw new UsageError('-num-uses must be a whole number');
      body.num_uses = Number(uses);
    }
    if (f.values.metadata) {
      const meta: Record<string, string> = {};
      for (const pair of f.values.metadata) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new UsageError('-metadata takes key=value');
        meta[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      body.meta = meta;
    }
    if (f.values.renewable) body.renewable = flagBool(f, 'renewable');
    if (flagBool(f, 'no-default-policy')) body.no_default_policy = true;
    const answer = await ctx.client().request('POST', flagBool(f, 'orphan') ? 'auth/token/create-orphan' : 'auth/token/create', body);
    ctx.print(answer, () => responseTable(answer, { showToken: true }));
  },
});

const lookup = defineCommand({
  name: 'token lookup',
  synopsis: 'Print what a token is',
  args: '[TOKEN]',
  description: `Without TOKEN, looks up the caller's own token (auth/token/lookup-self); with TOKEN,
that one (auth/token/lookup); with -accessor, TOKEN is an accessor. Prints its policies,
TTL, metadata and accessor. The token's own value (id) is never printed.`,
  example: '$ nomad-api token lookup\n$ nomad-api token lookup -accessor 8609694a-cdbc-db9b-d345-e782dbb562ed',
  flags: { accessor: { type: 'bool', description: 'TOKEN is an accessor.', default: 'false' } },
  maxArgs: 1,
  async run(ctx) {
    const [token] = ctx.args;
    const accessor = flagBool(ctx.flags, 'accessor');
    if (accessor && token === undefined) throw new UsageError('-accessor needs an accessor argument');
    const client = ctx.client();
    const answer = withoutToken(
      token === undefined
        ? await client.request('GET', 'auth/token/lookup-self')
        : await client.request('POST', accessor ? 'auth/token/lookup-accessor' : 'auth/token/lookup', accessor ? { accessor: token } : { token }),
    );
    ctx.print(answer, () => {
      const data = { ...payload(answer) };
      delete data.id;
      return keyValueTable(Object.keys(data).sort().map((k) => [k, data[k]]));
    });
  },
});

const renew = defineCommand({
  name: 'token renew',
  synopsis: 'Renew a token',
  args: '[TOKEN]',
  description: `Extends a renewable token's lease: the caller's own (auth/token/renew-self) without
TOKEN, else TOKEN's (auth/token/renew). -increment asks for a given extension; the server
may grant less.`,
  example: '$ nomad-api token renew -increment=1h',
  flags: { increment: { type: 'string', description: 'The extension to ask for, e.g. 1h (default: the token\'s TTL).' } },
  maxArgs: 1,
  async run(ctx) {
    const [token] = ctx.args;
    const increment = flagString(ctx.flags, 'increment');
    const body: Record<string, unknown> = increment === undefined ? {} : { increment };
    if (token !== undefined) body.token = token;
    const answer = withoutToken(await ctx.client().request('POST', token === undefined ? 'auth/token/renew-self' : 'auth/token/renew', body));
    ctx.print(answer, () => keyValueTable(answer?.auth ? authRows(answer.auth, false) : []));
  },
});

const revoke = defineCommand({
  name: 'token revoke',
  synopsis: 'Revoke a token (and its children)',
  args: '[TOKEN]',
  description: `Revokes TOKEN (auth/token/revoke), its child tokens and their leases; -self revokes the
caller's own token, -accessor takes an accessor, -mode=orphan keeps the children (needs
root or sudo).`,
  example: '$ nomad-api token revoke -self\n$ nomad-api token revoke -accessor 8609694a-cdbc-db9b-d345-e782dbb562ed',
  output: false,
  flags: {
    self: { type: 'bool', description: "Revoke the caller's own token.", default: 'false' },
    accessor: { type: 'bool', description: 'TOKEN is an accessor.', default: 'false' },
    mode: { type: 'string', description: '"orphan" keeps the children alive.' },
  },
  maxArgs: 1,
  async run(ctx) {
    const [token] = ctx.args;
    const self = flagBool(ctx.flags, 'self');
    const accessor = flagBool(ctx.flags, 'accessor');
    const mode = flagString(ctx.flags, 'mode');
    if (self === (token !== undefined)) throw new UsageError('give either TOKEN or -self');
    if (mode !== undefined && mode !== 'orphan') throw new UsageError('-mode takes only "orphan"');
    if (accessor && mode) throw new UsageError('-accessor and -mode=orphan cannot be combined');
    const client = ctx.client();
    if (self) await client.request('POST', 'auth/token/revoke-self');
    else if (accessor) await client.request('POST', 'auth/token/revoke-accessor', { accessor: token });
    else await client.request('POST', mode === 'orphan' ? 'auth/token/revoke-orphan' : 'auth/token/revoke', { token });
    ctx.io.stdout('Success! Revoked token (if it existed)\n');
  },
});

const capabilities = defineCommand({
  name: 'token capabilities',
  synopsis: 'Print what a token may do on a path',
  args: '[TOKEN] PATH',
  description: `Asks sys/capabilities-self (the caller's own token) or, with TOKEN, sys/capabilities,
and prints the capabilities on PATH: create, read, update, delete, list, sudo, deny, or
root for a root token.`,
  example: '$ nomad-api token capabilities secret/app',
  minArgs: 1,
  maxArgs: 2,
  async run(ctx) {
    const [first, second] = ctx.args;
    const path = (second ?? first)!.replace(/^\/+/, '');
    const answer = await ctx
      .client()
      .request('POST', second === undefined ? 'sys/capabilities-self' : 'sys/capabilities', second === undefined ? { paths: [path] } : { token: first, paths: [path] });
    const caps = payload(answer).capabilities;
    ctx.print(answer, () => `${Array.isArray(caps) ? caps.join(', ') : cell(caps)}\n`);
  },
});

export const commands: Command[] = [create, lookup, renew, revoke, capabilities];
