import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../lib/cli/registry.js';
import { runCli } from '../helpers/cli.js';

/**
 * The CLI's help and usage errors (issue 12, items 2 and 4): every command of api.md §16
 * exists, every command's -h shows its usage, flags with defaults and an example, and
 * mistyped commands or flags exit 2 with a suggestion. No server is involved.
 */

// api.md §16 word for word ("operator init|unseal|..." expanded), then what issue 12 adds.
const API_MD_16 =
  'status, operator init|unseal|seal|rekey|rotate|step-down, read, write, delete, list, login, token create|lookup|renew|revoke, ' +
  'secrets enable|disable|list|move|tune, auth enable|disable|list, policy read|write|list|delete, audit enable|disable|list, path-help';
// (`audit verify` joins this list when the audit branch, which adds it, is merged.)
const ISSUE_12_EXTRA = ['server', 'version', 'operator key-status', 'token capabilities', 'auth tune', 'policy fmt', 'audit verify'];
// Issue 15 item 5: storage snapshots.
const ISSUE_15_EXTRA = ['operator snapshot save', 'operator snapshot restore'];

function expand(list: string): string[] {
  return list.split(', ').flatMap((item) => {
    const [group, verbs] = item.includes(' ') ? item.split(' ') : [item, undefined];
    return verbs === undefined ? [group!] : verbs.split('|').map((v) => `${group} ${v}`);
  });
}

/** Runs the CLI for many argument lists, a few at a time (the machine has two cores). */
async function runAll(list: string[][], env: NodeJS.ProcessEnv = {}): Promise<Array<Awaited<ReturnType<typeof runCli>>>> {
  const results: Array<Awaited<ReturnType<typeof runCli>>> = [];
  for (let i = 0; i < list.length; i += 6) results.push(...(await Promise.all(list.slice(i, i + 6).map((args) => runCli(args, env)))));
  return results;
}

const names = COMMANDS.map((c) => c.name);

describe('the command list', () => {
  it('has every command of api.md §16 and issue 12', () => {
    const wanted = [...expand(API_MD_16), ...ISSUE_12_EXTRA, ...ISSUE_15_EXTRA];
    expect(wanted.length).toBe(41);
    // Both ways: a command added to the CLI is added to this list (and to the docs) too.
    expect([...names].sort()).toEqual([...wanted].sort());
  });

  it('lists every command and group in `nomad-api help`, exit 0; bare `nomad-api` prints it and exits 2', async () => {
    const [help, bare] = await runAll([['help'], []]);
    expect(help!.code).toBe(0);
    for (const name of names) expect(help!.stdout).toContain(name.includes(' ') ? name.split(' ')[1]! : name);
    expect(help!.stdout).toMatch(/NOMAD_ADDR \(default https:\/\/127\.0\.0\.1:8200\)/);
    expect(bare!.code).toBe(2);
    expect(bare!.stdout).toBe(help!.stdout);
  });
});

describe('-h of every command', () => {
  it('prints the usage line, the flags with their defaults and an example, and exits 0', { timeout: 60_000 }, async () => {
    const results = await runAll(names.map((name) => [...name.split(' '), '-h']));
    const clientCommands = names.filter((n) => !['server', 'version', 'policy fmt'].includes(n));
    results.forEach((result, i) => {
      const name = names[i]!;
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toMatch(new RegExp(`^Usage: nomad-api ${name}\\b`));
      if (name !== 'server') expect(result.stdout, name).toContain(`$ nomad-api ${name}`);
      if (clientCommands.includes(name)) {
        expect(result.stdout, name).toContain('-address=<value> (default: https://127.0.0.1:8200)');
        expect(result.stdout, name).toContain('-tls-skip-verify (default: false)');
      }
    });
    // Flags of their own, with defaults, where a command has them.
    expect(results[names.indexOf('operator init')]!.stdout).toMatch(/-key-shares=<value> \(default: 5\)[\s\S]*-key-threshold=<value> \(default: 3\)/);
    expect(results[names.indexOf('read')]!.stdout).toContain('-format=<value> (default: table)');
    expect(results[names.indexOf('login')]!.stdout).toContain('-method=<value> (default: token)');
  });

  it('answers `help <command>`, `<group> -h` and `-h` after the arguments too', async () => {
    const [helpRead, groupHelp, late, groupBare] = await runAll([['help', 'read'], ['operator', '-h'], ['write', 'secret/a', 'v=1', '-h'], ['token']]);
    expect(helpRead!.code).toBe(0);
    expect(helpRead!.stdout).toMatch(/^Usage: nomad-api read \[flags\] PATH/);
    expect(groupHelp!.code).toBe(0);
    expect(groupHelp!.stdout).toMatch(/unseal\s+Give one unseal key share/);
    expect(late!.code).toBe(0);
    expect(late!.stdout).toMatch(/^Usage: nomad-api write/);
    expect(groupBare!.code).toBe(2);
    expect(groupBare!.stderr).toMatch(/Usage: nomad-api token <subcommand>/);
  });
});

describe('usage errors exit 2', () => {
  // Nothing listens there: a usage error must be found before any request is made.
  const env = { NOMAD_ADDR: 'http://127.0.0.1:9' };

  it('suggests the nearest command, subcommand or flag', async () => {
    const [reed, unsael, fromat, polcy] = await runAll([['reed', 'secret/a'], ['operator', 'unsael'], ['read', '-fromat=json', 'secret/a'], ['polcy', 'list']], env);
    expect(reed!.code).toBe(2);
    expect(reed!.stderr).toContain(`Unknown command 'reed' (did you mean "read"?)`);
    expect(unsael!.code).toBe(2);
    expect(unsael!.stderr).toContain('(did you mean "operator unseal"?)');
    expect(fromat!.code).toBe(2);
    expect(fromat!.stderr).toContain('unknown flag -fromat (did you mean "-format"?)');
    expect(polcy!.code).toBe(2);
    expect(polcy!.stderr).toContain('(did you mean "policy"?)');
  });

  it('prints the usage when arguments are missing or extra, without echoing them', async () => {
    const [read, extra, init, format] = await runAll([['read'], ['read', 'a', 's3cr3t-looking-arg'], ['operator', 'init', '-key-shares=three'], ['status', '-format=yaml']], env);
    expect(read!.code).toBe(2);
    expect(read!.stderr).toMatch(/not enough arguments \(expected 1, got 0\)[\s\S]*Usage: nomad-api read \[flags\] PATH/);
    expect(read!.stdout).toBe('');
    expect(extra!.code).toBe(2);
    expect(extra!.stderr).toContain('too many arguments');
    expect(extra!.stderr).not.toContain('s3cr3t-looking-arg');
    expect(init!.code).toBe(2);
    expect(init!.stderr).toContain('-key-shares must be a whole number');
    expect(format!.code).toBe(2);
    expect(format!.stderr).toContain('-format must be table or json');
  });

  it('refuses to prompt for a secret when stdin is not a terminal', async () => {
    const [unseal, login] = await runAll([['operator', 'unseal'], ['login', '-method=userpass', 'username=u']], env);
    expect(unseal!.code).toBe(2);
    expect(unseal!.stderr).toContain('an unseal key is required (stdin is not a terminal');
    expect(login!.code).toBe(2);
    expect(login!.stderr).toContain('password=... is required (stdin is not a terminal');
  });

  it('prints the version without a server', async () => {
    const [version] = await runAll([['version']]);
    expect(version!.code).toBe(0);
    // The dist/ build cannot know its commit; the single executable does (spec/package/sea.spec.ts).
    expect(version!.stdout).toMatch(/^nomad-api v\d+\.\d+\.\d+ \(commit unknown\)\n$/);
  });
});
