import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { apiPath } from '../secret-args.js';

export const commands: Command[] = [
  defineCommand({
    name: 'path-help',
    synopsis: 'Print the help of a path',
    args: 'PATH',
    description: `GETs PATH?help=1: what the route does and its fields, generated from the route's
declaration. A mount's root path lists its routes. Needs a token with some access to the
path (none for unauthenticated routes such as sys/init).`,
    example: '$ nomad-api path-help secret/\n$ nomad-api path-help sys/mounts',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const answer = await ctx.client().request('GET', apiPath(ctx.args[0]!), undefined, { query: { help: '1' } });
      const help = (answer as { help?: unknown } | undefined)?.help;
      ctx.print(answer, () => (typeof help === 'string' ? `${help.trimEnd()}\n` : ''));
    },
  }),
];
