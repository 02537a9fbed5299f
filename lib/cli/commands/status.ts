import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { sealStatusTable } from '../seal-status.js';

export const commands: Command[] = [
  defineCommand({
    name: 'status',
    synopsis: 'Print the seal status of the server',
    args: '',
    description: `Reads sys/seal-status (no token needed): whether the server is initialised and
sealed, the key shares and threshold, the unseal progress, the version and storage type.
Exits 0 whenever the server answers, sealed or not (exit 1 is for errors).`,
    example: '$ nomad-api status',
    maxArgs: 0,
    async run(ctx) {
      const status = await ctx.client().request('GET', 'sys/seal-status');
      ctx.print(status, () => sealStatusTable(status ?? {}));
    },
  }),
];
