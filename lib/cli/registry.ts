/**
 * Every command's name, module and one-line synopsis. main.ts reads only this table to
 * dispatch, list commands and suggest names, then imports the one module that runs: start-up
 * cost is module loading, so `nomad-api status` must not load the server or the HCL parser.
 */

export interface CommandEntry {
  /** `status`, or `<group> <verb>` such as `operator init`. */
  name: string;
  /** The module under lib/cli/commands/ (without extension) that exports `commands`. */
  file: string;
  synopsis: string;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'server', file: 'server', synopsis: 'Start a nomad-api server' },
  { name: 'status', file: 'status', synopsis: 'Print the seal status of the server' },
  { name: 'read', file: 'read', synopsis: 'Read data at a path' },
  { name: 'write', file: 'write', synopsis: 'Write data to a path' },
  { name: 'delete', file: 'delete', synopsis: 'Delete data at a path' },
  { name: 'list', file: 'list', synopsis: 'List the keys under a path' },
  { name: 'login', file: 'login', synopsis: 'Authenticate and store the token in ~/.nomad-token' },
  { name: 'path-help', file: 'path-help', synopsis: 'Print the help of a path' },
  { name: 'version', file: 'version', synopsis: 'Print the version' },
  { name: 'operator init', file: 'operator', synopsis: 'Initialise the server: make the unseal keys and the root token' },
  { name: 'operator unseal', file: 'operator', synopsis: 'Give one unseal key share' },
  { name: 'operator seal', file: 'operator', synopsis: 'Seal the server' },
  { name: 'operator rekey', file: 'operator-rekey', synopsis: 'Make new unseal key shares' },
  { name: 'operator rotate', file: 'operator', synopsis: 'Add a new barrier encryption key term' },
  { name: 'operator step-down', file: 'operator', synopsis: 'Make the active node give up its lock' },
  { name: 'operator key-status', file: 'operator', synopsis: 'Print the barrier key term and install time' },
  { name: 'token create', file: 'token', synopsis: 'Create a token' },
  { name: 'token lookup', file: 'token', synopsis: 'Print what a token is' },
  { name: 'token renew', file: 'token', synopsis: 'Renew a token' },
  { name: 'token revoke', file: 'token', synopsis: 'Revoke a token (and its children)' },
  { name: 'token capabilities', file: 'token', synopsis: 'Print what a token may do on a path' },
  { name: 'secrets enable', file: 'secrets', synopsis: 'Mount a secrets engine' },
  { name: 'secrets disable', file: 'secrets', synopsis: 'Unmount a secrets engine and delete its data' },
  { name: 'secrets list', file: 'secrets', synopsis: 'List the mounted secrets engines' },
  { name: 'secrets move', file: 'secrets', synopsis: 'Move a secrets engine to another path' },
  { name: 'secrets tune', file: 'secrets', synopsis: "Change a secrets engine's lease TTLs or description" },
  { name: 'auth enable', file: 'auth', synopsis: 'Enable an auth method' },
  { name: 'auth disable', file: 'auth', synopsis: 'Disable an auth method' },
  { name: 'auth list', file: 'auth', synopsis: 'List the enabled auth methods' },
  { name: 'auth tune', file: 'auth', synopsis: "Change an auth method's lease TTLs or description" },
  { name: 'policy read', file: 'policy', synopsis: 'Print a policy' },
  { name: 'policy write', file: 'policy', synopsis: 'Write a policy from a file or stdin' },
  { name: 'policy list', file: 'policy', synopsis: 'List the policies' },
  { name: 'policy delete', file: 'policy', synopsis: 'Delete a policy' },
  { name: 'policy fmt', file: 'policy-fmt', synopsis: 'Reformat an HCL policy file in place' },
  { name: 'audit enable', file: 'audit-devices', synopsis: 'Enable an audit device' },
  { name: 'audit disable', file: 'audit-devices', synopsis: 'Disable an audit device' },
  { name: 'audit list', file: 'audit-devices', synopsis: 'List the audit devices' },
];

/** The group names (`operator`, `token`, ...): the first word of two-word commands. */
export function groups(): string[] {
  return [...new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))];
}
