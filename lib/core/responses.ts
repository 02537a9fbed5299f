import type { Core } from './core.js';
import type { MountEntry } from './mounts.js';
import type { Response } from './request.js';

/**
 * Completes a backend's answer before it leaves core: lease durations are clamped to the
 * mount's and the server's limits (api.md §11).
 */
export function finishResponse(core: Core, mount: MountEntry | undefined, response: Response | null): Response | null {
  if (response?.secret) {
    const defaultTtl = mount?.config.defaultLeaseTtl || core.config.defaultLeaseTtl;
    const maxTtl = mount?.config.maxLeaseTtl || core.config.maxLeaseTtl;
    const wanted = response.secret.ttl > 0 ? response.secret.ttl : defaultTtl;
    response.secret = { ...response.secret, ttl: Math.min(wanted, maxTtl) };
  }
  return response;
}
