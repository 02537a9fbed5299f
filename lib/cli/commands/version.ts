import { COMMIT, VERSION } from '../../version.js';
import type { Command } from '../command.js';
import { parseFlags, UsageError } from '../flags.js';

export const commands: Command[] = [
  {
    name: 'version',
    synopsis: 'Print the version',
    usage: `Usage: nomad-api version

  Prints the version of this program and the commit it was built from ("unknown"
  unless it is the single executable built by "npm run package"). No server is contacted.

Example:
  $ nomad-api version
`,
    async run(args, io) {
      const flags = parseFlags(args, {});
      if (flags.positional.length > 0) throw new UsageError('version takes no arguments');
      io.stdout(`nomad-api v${VERSION} (commit ${COMMIT})\n`);
      return 0;
    },
  },
];
