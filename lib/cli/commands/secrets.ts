import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { mountCommands, mountPath } from '../mount-commands.js';

const move = defineCommand({
  name: 'secrets move',
  synopsis: 'Move a secrets engine to another path',
  args: 'SOURCE DESTINATION',
  description: 'POSTs sys/remount {"from", "to"}: the engine and its data move; its leases are revoked.',
  example: '$ nomad-api secrets move secret/ kv/',
  output: false,
  minArgs: 2,
  maxArgs: 2,
  async run(ctx) {
    const [from, to] = ctx.args.map(mountPath) as [string, string];
    await ctx.client().request('POST', 'sys/remount', { from, to });
    ctx.io.stdout(`Success! Moved secrets engine ${from} to: ${to}\n`);
  },
});

export const commands: Command[] = [...mountCommands('secrets'), move];
