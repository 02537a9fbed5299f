import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { parseFlags, UsageError } from '../flags.js';
import { formatHcl } from '../hcl-format.js';
import { parsePolicy } from '../../core/policy.js';

/** `policy fmt FILE`: no server involved; the file is checked as a policy, then rewritten in place. */
export const commands: Command[] = [
  {
    name: 'policy fmt',
    synopsis: 'Reformat an HCL policy file in place',
    usage: `Usage: nomad-api policy fmt FILE

  Reformat an HCL policy file in place.

  Checks FILE as an ACL policy (syntax, capabilities, legacy levels: the same checks the
  server makes on policy write), then rewrites it in the canonical layout: two-space
  indents, aligned "=", one blank line between path blocks. Comments are kept, each on its
  own line before the item it was next to. JSON policies are left alone. No server is
  contacted.

Example:

  $ nomad-api policy fmt app-policy.hcl
`,
    async run(args, io) {
      const flags = parseFlags(args, {});
      if (flags.positional.length !== 1) throw new UsageError(`expected one FILE, got ${flags.positional.length} arguments`);
      const file = flags.positional[0]!;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (text.trimStart().startsWith('{')) {
        io.stderr(`Error: ${file} is a JSON policy: policy fmt formats HCL only\n`);
        return 1;
      }
      let formatted: string;
      try {
        parsePolicy('fmt', text);
        formatted = formatHcl(text);
      } catch (err) {
        io.stderr(`Error: ${file}: ${(err as Error).message}\n`);
        return 1;
      }
      if (formatted !== text) writeFileSync(file, formatted);
      io.stdout(`Success! Formatted policy: ${file}\n`);
      return 0;
    },
  },
];
