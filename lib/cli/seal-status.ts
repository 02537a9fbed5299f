import { keyValueTable } from './output.js';

/** The seal status as `status` and `operator unseal` print it (progress as `1/2` while sealed). */
export function sealStatusTable(status: Record<string, any>): string {
  const rows: Array<[string, unknown]> = [
    ['Initialized', status.initialized],
    ['Sealed', status.sealed],
    ['Total Shares', status.n],
    ['Threshold', status.t],
  ];
  if (status.sealed && status.initialized) rows.push(['Unseal Progress', `${status.progress}/${status.t}`]);
  rows.push(['Version', status.version], ['Storage Type', status.storage_type], ['HA Enabled', status.ha_enabled]);
  if (status.ha_mode !== undefined) rows.push(['HA Mode', status.ha_mode], ['Active Node Address', status.active_node_address || '<none>']);
  return keyValueTable(rows);
}
