import { readFileSync } from 'node:fs';
import { verifyAuditFiles } from '../../audit/verify.js';
import type { ChainHead } from '../../audit/chain.js';
import type { Client } from '../../client/index.js';
import type { Command } from '../command.js';
import { defineCommand, CommandError } from '../client-command.js';
import { connect } from '../connect.js';
import { flagString, UsageError, type ParsedFlags } from '../flags.js';

/**
 * `nomad-api audit verify`: checks audit files against their keyed chain (audit/verify.ts).
 * The key comes from -key, -key-file, or the server itself (-salt-from, with a root token:
 * GET sys/audit-chain/<device>), which also tells the last line the device wrote, so lines
 * cut from the end of the newest file show too.
 */

const HEX_KEY = /^[0-9a-f]{64}$/i;

/** The client for -salt-from: the connection flags and environment, with that address. */
function serverAt(address: string, flags: ParsedFlags, env: NodeJS.ProcessEnv): Client {
  return connect({ ...flags, values: { ...flags.values, address: [address] } }, env);
}

async function fromServer(client: Client, device: string | undefined): Promise<{ key: Buffer; head: ChainHead }> {
  if (!client.token) throw new UsageError('-salt-from needs a root token (NOMAD_TOKEN or nomad-api login)');
  let path = device?.replace(/\/+$/, '');
  if (path === undefined) {
    const list = await client.request<{ data?: Record<string, unknown> }>('GET', 'sys/audit');
    const paths = Object.keys(list?.data ?? {});
    if (paths.length !== 1) throw new UsageError(`-device is needed: the server has ${paths.length} audit devices (${paths.join(', ')})`);
    path = paths[0]!.replace(/\/+$/, '');
  }
  const res = await client.request<{ data: { key: string; seq: number; chain: string } }>('GET', `sys/audit-chain/${path}`);
  if (!res?.data) throw new CommandError(`the server answered no chain key for ${path}/`);
  return { key: Buffer.from(res.data.key, 'hex'), head: { seq: res.data.seq, chain: res.data.chain } };
}

const verify = defineCommand({
  name: 'audit verify',
  synopsis: 'Check audit log files against their tamper-evident chain',
  args: 'FILE...',
  description: `Checks that audit FILEs (in rotation order, oldest first) are complete and unchanged: every
line's seq follows the one before and its chain value matches. Prints OK and the line count
(exit 0), or the first problem and its line (exit 1): a deleted, modified, inserted or
reordered line, a truncated tail, or a file that does not continue the one before. Give
exactly one of -key, -key-file or -salt-from.`,
  example: '$ nomad-api audit verify -salt-from=https://127.0.0.1:8200 /var/log/nomad-api/audit.log',
  flags: {
    key: { type: 'string', description: "The device's chain key, hex (the key field of GET sys/audit-chain/<path>)." },
    'key-file': { type: 'string', description: 'A file holding the chain key, hex.' },
    'salt-from': { type: 'string', description: 'A server address: read the key and the last line written there (needs a root token).' },
    device: { type: 'string', description: 'With -salt-from: the audit device path (default: the only one enabled).' },
  },
  output: false,
  minArgs: 1,
  async run(ctx) {
    const sources = ['key', 'key-file', 'salt-from'].filter((name) => flagString(ctx.flags, name) !== undefined);
    if (sources.length !== 1) throw new UsageError('give exactly one of -key, -key-file, -salt-from');
    if (flagString(ctx.flags, 'device') !== undefined && sources[0] !== 'salt-from') throw new UsageError('-device goes with -salt-from');
    let key: Buffer;
    let head: ChainHead | undefined;
    if (sources[0] === 'salt-from') {
      // Before the files are read: lines written meanwhile come after this head, never before.
      const client = serverAt(flagString(ctx.flags, 'salt-from')!, ctx.flags, ctx.env);
      try {
        ({ key, head } = await fromServer(client, flagString(ctx.flags, 'device')));
      } finally {
        client.close();
      }
    } else {
      const hex = sources[0] === 'key' ? flagString(ctx.flags, 'key')! : readFileSync(flagString(ctx.flags, 'key-file')!, 'utf8').trim();
      if (!HEX_KEY.test(hex)) throw new UsageError('the key must be 64 hex digits');
      key = Buffer.from(hex, 'hex');
    }
    const texts = ctx.args.map((name) => ({ name, text: readFileSync(name, 'utf8') }));
    const verdict = verifyAuditFiles(key, texts, head);
    if (!verdict.ok) {
      ctx.io.stdout(`FAILED: ${verdict.file}${verdict.line > 0 ? `:${verdict.line}` : ''}: ${verdict.kind}: ${verdict.message}\n`);
      return 1;
    }
    const start = verdict.startsAfter === '' ? 'from the first line of the device' : `continuing a chain before this file (${verdict.startsAfter.slice(0, 12)}…)`;
    ctx.io.stdout(`OK: ${verdict.lines} lines in ${verdict.files} file${verdict.files === 1 ? '' : 's'}, seq ${verdict.firstSeq}–${verdict.lastSeq}, ${start}${head ? ', up to the last line the device wrote' : ''}\n`);
    return 0;
  },
});

export const commands: Command[] = [verify];
