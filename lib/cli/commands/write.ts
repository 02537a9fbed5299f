import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { flagBool, UsageError } from '../flags.js';
import { responseTable, warningsText } from '../render.js';
import { apiPath, parseData } from '../secret-args.js';

export const commands: Command[] = [
  defineCommand({
    name: 'write',
    synopsis: 'Write data to a path',
    args: 'PATH [KEY=VALUE | KEY=@FILE | KEY=- | -] ...',
    description: `POSTs the data to the path. KEY=@FILE takes the value from a file, KEY=- from stdin,
and a lone - reads a whole JSON object from stdin. Values are sent as strings.
An answer with data is printed as a table (a login path's answer shows its token, as the
point of writing to it is to get one); an empty answer prints a success line.`,
    example: `$ nomad-api write secret/app user=admin password=@password.txt
$ echo '{"ttl": "1h"}' | nomad-api write secret/app -`,
    flags: { force: { type: 'bool', description: 'Write even with no data (some routes take none).', default: 'false' } },
    minArgs: 1,
    async run(ctx) {
      const path = apiPath(ctx.args[0]!);
      const data = await parseData(ctx.args.slice(1));
      if (Object.keys(data).length === 0 && !flagBool(ctx.flags, 'force')) throw new UsageError('no data to write (give KEY=VALUE pairs, or -force to write none)');
      const body = await ctx.client().request('POST', path, data);
      ctx.io.stderr(warningsText(body));
      if (body === undefined) {
        if (ctx.out.field === undefined && ctx.out.format === 'table') ctx.io.stdout(`Success! Data written to: ${path}\n`);
        return;
      }
      ctx.print(body, () => responseTable(body, { showToken: true }));
    },
  }),
];
