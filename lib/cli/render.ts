import { authRows, columns, keyValueTable, payload } from './output.js';

/**
 * The table of a backend answer (the envelope of api.md §5): its auth block (Vault's token_*
 * rows), its lease, then its data sorted by key.
 */
export function responseTable(body: any, options: { showToken: boolean }): string {
  const rows: Array<[string, unknown]> = [];
  if (body?.auth) rows.push(...authRows(body.auth, options.showToken));
  if (body?.lease_id) rows.push(['lease_id', body.lease_id], ['lease_duration', body.lease_duration], ['lease_renewable', body.renewable]);
  const data = body?.auth && !body.data ? {} : payload(body);
  for (const key of Object.keys(data).sort()) rows.push([key, data[key]]);
  return keyValueTable(rows);
}

/** A one-column list (`Keys`, `Policies`, ...). */
export function listTable(header: string, keys: unknown[]): string {
  return columns([header], keys.map((k) => [String(k)]));
}

/** Server warnings go to stderr, so stdout stays the result alone. */
export function warningsText(body: any): string {
  const warnings: unknown = body?.warnings;
  if (!Array.isArray(warnings) || warnings.length === 0) return '';
  return `WARNING! The server returned these warnings:\n${warnings.map((w) => `  * ${String(w)}`).join('\n')}\n\n`;
}
