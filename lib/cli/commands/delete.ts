import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { apiPath } from '../secret-args.js';

export const commands: Command[] = [
  defineCommand({
    name: 'delete',
    synopsis: 'Delete data at a path',
    args: 'PATH',
    description: 'DELETEs the path. For kv secrets this succeeds whether or not the secret existed.',
    example: '$ nomad-api delete secret/app',
    output: false,
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const path = apiPath(ctx.args[0]!);
      await ctx.client().request('DELETE', path);
      ctx.io.stdout(`Success! Data deleted (if it existed) at: ${path}\n`);
    },
  }),
];
