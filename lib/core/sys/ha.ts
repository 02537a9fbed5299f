import type { PathSpec } from '../../framework/backend.js';
import type { CoreServices } from '../services.js';
import { sysData } from './respond.js';

/** sys/leader and sys/step-down: the high-availability routes (api.md §15). */

/** Vault's "never": the zero time of Go, which its clients parse. */
const NEVER = '0001-01-01T00:00:00Z';

export function haPaths(core: CoreServices): PathSpec[] {
  return [
    {
      pattern: 'leader',
      operations: {
        read: async () => {
          const ha = core.ha();
          const leader = ha === undefined ? '' : ((await ha.leaderAddress()) ?? '');
          return sysData({
            ha_enabled: core.haEnabled,
            is_self: ha?.active === true,
            active_time: ha?.activeSince?.toISOString() ?? NEVER,
            leader_address: leader,
            // No separate cluster port: servers talk only through the storage.
            leader_cluster_address: leader,
            performance_standby: false,
            performance_standby_last_remote_wal: 0,
          });
        },
      },
      synopsis: 'Read the high-availability status and the current active server.',
      description: `Answers {"ha_enabled", "is_self", "active_time", "leader_address",
"leader_cluster_address", "performance_standby", "performance_standby_last_remote_wal"}.
ha_enabled is true on a storage that elects an active server (etcd with ha_enabled); is_self
is true on the active server, whose api_addr is leader_address. Answered by every server,
standby or sealed, without a token.`,
    },
    {
      pattern: 'step-down',
      operations: {
        update: async () => {
          await core.ha()?.stepDown();
          return null;
        },
      },
      synopsis: 'Make the active server give up the HA lock.',
      description: `The active server goes back to standby and leaves the lock to the other
servers for 10 seconds before it competes for it again. A standby sends the request to the
active server (307). Without HA it does nothing. Needs the root policy or sudo on sys/step-down.`,
    },
  ];
}
