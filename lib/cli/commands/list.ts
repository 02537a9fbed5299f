import { ApiError } from '../../client/index.js';
import type { Command } from '../command.js';
import { CommandError, defineCommand } from '../client-command.js';
import { payload } from '../output.js';
import { listTable } from '../render.js';
import { apiPath } from '../secret-args.js';

export const commands: Command[] = [
  defineCommand({
    name: 'list',
    synopsis: 'List the keys under a path',
    args: 'PATH',
    description: `LISTs the folder at the path (secret/ and secret are the same) and prints its keys,
one level deep: a key ending in / is a folder.`,
    example: '$ nomad-api list secret/\n$ nomad-api list -format=json secret/app',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const path = apiPath(ctx.args[0]!).replace(/\/*$/, '/');
      let body: any;
      try {
        body = await ctx.client().request('LIST', path);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) throw new CommandError(`no keys found under ${path}`);
        throw err;
      }
      const keys = payload(body).keys;
      ctx.print(body, () => listTable('Keys', Array.isArray(keys) ? keys : []));
    },
  }),
];
