import type { Command, CommandIO } from './command.js';
import { UsageError } from './flags.js';
import { COMMANDS, groups, type CommandEntry } from './registry.js';
import { didYouMean } from './suggest.js';

/**
 * `nomad-api <command> [flags] [args]`: the server and the CLI are one program. Dispatch reads
 * the name table (registry.ts) and imports only the module of the command that runs.
 */

const HELP_FLAGS = new Set(['-h', '-help', '--help']);

function table(entries: Array<{ name: string; synopsis: string }>, strip = ''): string {
  const names = entries.map((c) => c.name.slice(strip.length));
  const width = Math.max(...names.map((n) => n.length));
  return entries.map((c, i) => `    ${names[i]!.padEnd(width)}    ${c.synopsis}`).join('\n');
}

function usage(): string {
  const single = COMMANDS.filter((c) => !c.name.includes(' '));
  const grouped = groups().map((g) => ({ name: g, synopsis: groupSynopsis(g) }));
  return `Usage: nomad-api <command> [args]

Common commands:
${table(single)}

Groups (run "nomad-api <group>" for their commands):
${table(grouped)}

Environment: NOMAD_ADDR (default https://127.0.0.1:8200), NOMAD_TOKEN (else the token
"nomad-api login" kept in ~/.nomad-token), NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY,
NOMAD_SKIP_VERIFY, NOMAD_TLS_SERVER_NAME, NOMAD_FORMAT.

Run "nomad-api <command> -h" for a command's usage, flags and an example.
`;
}

function groupSynopsis(group: string): string {
  const verbs = COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.slice(group.length + 1));
  return verbs.join(', ');
}

function groupUsage(group: string): string {
  const entries = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return `Usage: nomad-api ${group} <subcommand> [args]

Subcommands:
${table(entries, `${group} `)}

Run "nomad-api ${group} <subcommand> -h" for its usage, flags and an example.
`;
}

async function load(entry: CommandEntry): Promise<Command> {
  const command = (await entry.load()).commands.find((c) => c.name === entry.name);
  if (!command) throw new Error(`command '${entry.name}' is missing from its module`);
  return command;
}

/** Finds the entry for argv (one word, or a group and its verb); prints and returns a status if there is none. */
function resolve(argv: string[], io: CommandIO, subgroup = false): { entry: CommandEntry; args: string[] } | number {
  const [name, ...rest] = argv as [string, ...string[]];
  if (subgroup || groups().includes(name)) {
    const verb = rest[0];
    if (verb === undefined || HELP_FLAGS.has(verb) || verb === 'help') {
      (verb === undefined ? io.stderr : io.stdout)(groupUsage(name));
      return verb === undefined ? 2 : 0;
    }
    const entry = COMMANDS.find((c) => c.name === `${name} ${verb}`);
    if (entry) return { entry, args: rest.slice(1) };
    // A verb with verbs of its own (`operator snapshot save`).
    if (COMMANDS.some((c) => c.name.startsWith(`${name} ${verb} `))) return resolve([`${name} ${verb}`, ...rest.slice(1)], io, true);
    const verbs = COMMANDS.filter((c) => c.name.startsWith(`${name} `)).map((c) => c.name.slice(name.length + 1));
    io.stderr(`Unknown command '${name} ${verb}'${didYouMean(verb, verbs, `${name} `)}.\n\n${groupUsage(name)}`);
    return 2;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry) return { entry, args: rest };
  const names = [...COMMANDS.filter((c) => !c.name.includes(' ')).map((c) => c.name), ...groups(), 'help'];
  io.stderr(`Unknown command '${name}'${didYouMean(name, names)}.\n\nRun "nomad-api help" for the list of commands.\n`);
  return 2;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name] = argv;
  if (name === undefined || HELP_FLAGS.has(name) || name === 'help') {
    if (name === 'help' && argv.length > 1) return main([...argv.slice(1), '-h'], io);
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '-version' || name === '--version') return main(['version'], io);
  const found = resolve(argv, io);
  if (typeof found === 'number') return found;
  const command = await load(found.entry);
  // Help wins wherever it appears before a `--`, as in Vault.
  const beforeDashes = found.args.indexOf('--') === -1 ? found.args : found.args.slice(0, found.args.indexOf('--'));
  if (beforeDashes.some((a) => HELP_FLAGS.has(a))) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(found.args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      // The usage line alone: the whole help would bury the error.
      const line = command.usage.split('\n')[0];
      io.stderr(`Error: ${err.message}\n\n${line}\n\nRun "nomad-api ${command.name} -h" for its flags and an example.\n`);
      return 2;
    }
    io.stderr(`Error: ${(err as Error).message}\n`);
    return 1;
  }
}
