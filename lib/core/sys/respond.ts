import type { Response } from '../request.js';

/**
 * How `sys/` answers (api.md §5): its fields at the top level, as old clients read them, and
 * the envelope around the same fields in `data`, as current Vault clients read them.
 */
export function sysData(data: Record<string, unknown>, status?: number): Response {
  return status === undefined ? { data, topLevel: true } : { data, topLevel: true, status };
}

/** The fields alone, no envelope: sys/health (load balancers) and the OpenAPI document. */
export function rawBody(data: Record<string, unknown>, status?: number): Response {
  return status === undefined ? { data, raw: true } : { data, raw: true, status };
}
