import { ApiError } from '../../client/index.js';
import type { Command } from '../command.js';
import { CommandError, defineCommand } from '../client-command.js';
import { responseTable, warningsText } from '../render.js';
import { apiPath } from '../secret-args.js';

export const commands: Command[] = [
  defineCommand({
    name: 'read',
    synopsis: 'Read data at a path',
    args: 'PATH',
    description: `GETs the path and prints its data as a Key/Value table, the lease first when it has one.
Any path works: secrets (secret/a), sys/ routes, auth method routes.`,
    example: '$ nomad-api read secret/app\n$ nomad-api read -field=password secret/app',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const path = apiPath(ctx.args[0]!);
      let body: any;
      try {
        body = await ctx.client().request('GET', path);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) throw new CommandError(`no value found at ${path}`);
        throw err;
      }
      ctx.io.stderr(warningsText(body));
      ctx.print(body, () => responseTable(body, { showToken: false }));
    },
  }),
];
