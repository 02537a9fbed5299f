import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { sealStatusTable } from '../seal-status.js';

export const commands: Command[] = [
  defineCommand({
    name: 'status',
    synopsis: 'Print the seal status of the server',
    args: '',
    description: `Reads sys/seal-status (no token needed): whether the server is initialised and
sealed, the key shares and threshold, the unseal progress, the version and storage type;
on an HA storage, once unsealed, also sys/leader: whether this server is active or standby
and the active server's address. Exits 0 whenever the server answers, sealed or not (exit 1 is for errors).`,
    example: '$ nomad-api status',
    maxArgs: 0,
    async run(ctx) {
      const client = ctx.client();
      const status = await client.request('GET', 'sys/seal-status');
      // sys/leader is answered by a standby itself: this server's own view.
      const leader = status?.ha_enabled === true && status.sealed === false ? await client.request('GET', 'sys/leader') : undefined;
      const shown = leader === undefined ? status : { ...status, ha_mode: leader.is_self ? 'active' : 'standby', active_node_address: leader.leader_address };
      ctx.print(shown, () => sealStatusTable(shown ?? {}));
    },
  }),
];
