import { VERSION } from '../version.js';
import type { Command, CommandIO } from './command.js';
import { auditCommand } from './commands/audit.js';
import { serverCommand } from './commands/server.js';
import { UsageError } from './flags.js';

/** `nomad-api <command> [flags]`: the server and the CLI are one program. */

const COMMANDS: Command[] = [serverCommand, auditCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `    ${c.name.padEnd(width)}    ${c.synopsis}`);
  return `Usage: nomad-api <command> [args]

Commands:
${lines.join('\n')}

    version    Print the version

Run "nomad-api <command> -help" for a command's flags.
`;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '-help' || name === '--help' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '-version' || name === '--version') {
    io.stdout(`nomad-api v${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`Unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  if (args.some((a) => a === '-h' || a === '-help' || a === '--help')) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`Error: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    io.stderr(`Error: ${(err as Error).message}\n`);
    return 1;
  }
}
