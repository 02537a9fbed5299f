/**
 * Every command's name, module and one-line synopsis. main.ts reads only this table to
 * dispatch, list commands and suggest names, then imports the one module that runs: start-up
 * cost is module loading, so `nomad-api status` must not load the server or the HCL parser.
 */

import type { Command } from './command.js';

export interface CommandEntry {
  /** `status`, or `<group> <verb>` such as `operator init`, or `<group> <verb> <verb>` (`operator snapshot save`). */
  name: string;
  /** Imports the module under lib/cli/commands/ that exports this command in `commands`. */
  load: () => Promise<{ commands: Command[] }>;
  synopsis: string;
}

// Literal specifiers, one per module: the import-graph spec sees every edge.
const server = () => import('./commands/server.js');
const status = () => import('./commands/status.js');
const read = () => import('./commands/read.js');
const write = () => import('./commands/write.js');
const del = () => import('./commands/delete.js');
const list = () => import('./commands/list.js');
const login = () => import('./commands/login.js');
const pathHelp = () => import('./commands/path-help.js');
const version = () => import('./commands/version.js');
const operator = () => import('./commands/operator.js');
const rekey = () => import('./commands/operator-rekey.js');
const snapshot = () => import('./commands/operator-snapshot.js');
const token = () => import('./commands/token.js');
const secrets = () => import('./commands/secrets.js');
const auth = () => import('./commands/auth.js');
const policy = () => import('./commands/policy.js');
const policyFmt = () => import('./commands/policy-fmt.js');
const audit = () => import('./commands/audit-devices.js');
const auditVerify = () => import('./commands/audit-verify.js');

export const COMMANDS: CommandEntry[] = [
  { name: 'server', load: server, synopsis: 'Start a nomad-api server' },
  { name: 'status', load: status, synopsis: 'Print the seal status of the server' },
  { name: 'read', load: read, synopsis: 'Read data at a path' },
  { name: 'write', load: write, synopsis: 'Write data to a path' },
  { name: 'delete', load: del, synopsis: 'Delete data at a path' },
  { name: 'list', load: list, synopsis: 'List the keys under a path' },
  { name: 'login', load: login, synopsis: 'Authenticate and store the token in ~/.nomad-token' },
  { name: 'path-help', load: pathHelp, synopsis: 'Print the help of a path' },
  { name: 'version', load: version, synopsis: 'Print the version' },
  { name: 'operator init', load: operator, synopsis: 'Initialise the server: make the unseal keys and the root token' },
  { name: 'operator unseal', load: operator, synopsis: 'Give one unseal key share' },
  { name: 'operator seal', load: operator, synopsis: 'Seal the server' },
  { name: 'operator rekey', load: rekey, synopsis: 'Make new unseal key shares' },
  { name: 'operator rotate', load: operator, synopsis: 'Add a new barrier encryption key term' },
  { name: 'operator step-down', load: operator, synopsis: 'Make the active node give up its lock' },
  { name: 'operator key-status', load: operator, synopsis: 'Print the barrier key term and install time' },
  { name: 'operator snapshot save', load: snapshot, synopsis: 'Save the whole storage, still encrypted, to a file' },
  { name: 'operator snapshot restore', load: snapshot, synopsis: 'Replace the whole storage with a snapshot file, then seal' },
  { name: 'token create', load: token, synopsis: 'Create a token' },
  { name: 'token lookup', load: token, synopsis: 'Print what a token is' },
  { name: 'token renew', load: token, synopsis: 'Renew a token' },
  { name: 'token revoke', load: token, synopsis: 'Revoke a token (and its children)' },
  { name: 'token capabilities', load: token, synopsis: 'Print what a token may do on a path' },
  { name: 'secrets enable', load: secrets, synopsis: 'Mount a secrets engine' },
  { name: 'secrets disable', load: secrets, synopsis: 'Unmount a secrets engine and delete its data' },
  { name: 'secrets list', load: secrets, synopsis: 'List the mounted secrets engines' },
  { name: 'secrets move', load: secrets, synopsis: 'Move a secrets engine to another path' },
  { name: 'secrets tune', load: secrets, synopsis: "Change a secrets engine's lease TTLs or description" },
  { name: 'auth enable', load: auth, synopsis: 'Enable an auth method' },
  { name: 'auth disable', load: auth, synopsis: 'Disable an auth method' },
  { name: 'auth list', load: auth, synopsis: 'List the enabled auth methods' },
  { name: 'auth tune', load: auth, synopsis: "Change an auth method's lease TTLs or description" },
  { name: 'policy read', load: policy, synopsis: 'Print a policy' },
  { name: 'policy write', load: policy, synopsis: 'Write a policy from a file or stdin' },
  { name: 'policy list', load: policy, synopsis: 'List the policies' },
  { name: 'policy delete', load: policy, synopsis: 'Delete a policy' },
  { name: 'policy fmt', load: policyFmt, synopsis: 'Reformat an HCL policy file in place' },
  { name: 'audit enable', load: audit, synopsis: 'Enable an audit device' },
  { name: 'audit disable', load: audit, synopsis: 'Disable an audit device' },
  { name: 'audit list', load: audit, synopsis: 'List the audit devices' },
  { name: 'audit verify', load: auditVerify, synopsis: 'Check audit log files against their tamper-evident chain' },
];

/** The group names (`operator`, `token`, ...): the first word of two-word commands. */
export function groups(): string[] {
  return [...new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))];
}
