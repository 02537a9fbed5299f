import { readFileSync } from 'node:fs';
import { verifyAuditFiles } from '../../audit/verify.js';
import type { ChainHead } from '../../audit/chain.js';
import { apiGet, clientOptionsOf } from '../api-client.js';
import type { Command, CommandIO } from '../command.js';
import { describeFlags, flagString, parseFlags, UsageError, type FlagSpec } from '../flags.js';

/**
 * `nomad-api audit verify`: checks audit files against their keyed chain (audit/verify.ts).
 * The key comes from -key, -key-file, or the server itself (-salt-from, with NOMAD_TOKEN, a
 * root token: GET sys/audit-chain/<device>), which also tells the last line the device wrote,
 * so lines cut from the end of the newest file show too.
 */

const FLAGS: Record<string, FlagSpec> = {
  key: { type: 'string', description: "The device's chain key, hex (the key field of GET sys/audit-chain/<path>)." },
  'key-file': { type: 'string', description: 'A file holding the chain key, hex.' },
  'salt-from': { type: 'string', description: 'A server address (https://127.0.0.1:8200): read the key and the last line there, with NOMAD_TOKEN.' },
  device: { type: 'string', description: 'With -salt-from: the audit device path (default: the only one enabled).' },
};

const USAGE = `Usage: nomad-api audit verify [-key=<hex> | -key-file=<file> | -salt-from=<address> [-device=<path>]] FILE...

  Checks that audit FILEs (in rotation order, oldest first) are complete and unchanged: every
  line's seq follows the one before and its chain value matches. Prints OK and the line count
  (exit 0), or the first problem and its line (exit 1): a deleted, modified, inserted or
  reordered line, a truncated tail, or a file that does not continue the one before.

${describeFlags(FLAGS)}
`;

const HEX_KEY = /^[0-9a-f]{64}$/i;

async function fromServer(address: string, device: string | undefined, io: CommandIO): Promise<{ key: Buffer; head: ChainHead; device: string }> {
  const options = clientOptionsOf(address, io.env);
  if (options.token === '') throw new UsageError('-salt-from needs a root token in NOMAD_TOKEN');
  let path = device?.replace(/\/+$/, '');
  if (path === undefined) {
    const list = await apiGet(options, 'sys/audit');
    if (list.status !== 200) throw new Error(`listing the audit devices answered ${list.status}: ${JSON.stringify(list.body?.errors ?? [])}`);
    const paths = Object.keys(list.body.data ?? {});
    if (paths.length !== 1) throw new UsageError(`-device is needed: the server has ${paths.length} audit devices (${paths.join(', ')})`);
    path = paths[0]!.replace(/\/+$/, '');
  }
  const res = await apiGet(options, `sys/audit-chain/${path}`);
  if (res.status !== 200) throw new Error(`reading the chain key of ${path}/ answered ${res.status}: ${JSON.stringify(res.body?.errors ?? [])}`);
  const data = res.body.data as { key: string; seq: number; chain: string };
  return { key: Buffer.from(data.key, 'hex'), head: { seq: data.seq, chain: data.chain }, device: `${path}/` };
}

async function verify(args: string[], io: CommandIO): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  const files = flags.positional;
  if (files.length === 0) throw new UsageError('name at least one audit file');
  const sources = ['key', 'key-file', 'salt-from'].filter((name) => flagString(flags, name) !== undefined);
  if (sources.length !== 1) throw new UsageError('give exactly one of -key, -key-file, -salt-from');
  if (flagString(flags, 'device') !== undefined && sources[0] !== 'salt-from') throw new UsageError('-device goes with -salt-from');
  let key: Buffer;
  let head: ChainHead | undefined;
  if (sources[0] === 'salt-from') {
    // Before the files are read: lines written meanwhile come after this head, never before.
    const found = await fromServer(flagString(flags, 'salt-from')!, flagString(flags, 'device'), io);
    key = found.key;
    head = found.head;
  } else {
    const hex = sources[0] === 'key' ? flagString(flags, 'key')! : readFileSync(flagString(flags, 'key-file')!, 'utf8').trim();
    if (!HEX_KEY.test(hex)) throw new UsageError('the key must be 64 hex digits');
    key = Buffer.from(hex, 'hex');
  }
  const texts = files.map((name) => ({ name, text: readFileSync(name, 'utf8') }));
  const verdict = verifyAuditFiles(key, texts, head);
  if (!verdict.ok) {
    io.stdout(`FAILED: ${verdict.file}${verdict.line > 0 ? `:${verdict.line}` : ''}: ${verdict.kind}: ${verdict.message}\n`);
    return 1;
  }
  const start = verdict.startsAfter === '' ? 'from the first line of the device' : `continuing a chain before this file (${verdict.startsAfter.slice(0, 12)}…)`;
  io.stdout(`OK: ${verdict.lines} lines in ${verdict.files} file${verdict.files === 1 ? '' : 's'}, seq ${verdict.firstSeq}–${verdict.lastSeq}, ${start}${head ? ', up to the last line the device wrote' : ''}\n`);
  return 0;
}

export const auditCommand: Command = {
  name: 'audit',
  synopsis: 'Audit log tools: verify an audit log against its chain',
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'verify') throw new UsageError(sub === undefined ? 'missing subcommand: verify' : `unknown subcommand '${sub}'`);
    return verify(rest, io);
  },
};
