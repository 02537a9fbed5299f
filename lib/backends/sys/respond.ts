import type { Response } from '../../core/request.js';

/** `sys/` endpoints answer plain JSON, not the envelope (api.md §5). */
export function raw(data: Record<string, unknown>, status?: number): Response {
  return status === undefined ? { data, raw: true } : { data, raw: true, status };
}
