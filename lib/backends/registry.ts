import type { BackendFactory } from '../framework/backend.js';
import { createApproleBackend } from './approle/index.js';
import { createCertBackend } from './cert/index.js';
import { createCubbyholeBackend } from './cubbyhole.js';
import { createKvBackend } from './kv.js';
import { createUserpassBackend } from './userpass.js';

/**
 * Every mountable backend type: one file plus one line here. server.ts hands these tables
 * to the core; `system` and `token` are the core's own (lib/core/), because they drive it.
 */
export const secretBackends: Record<string, BackendFactory> = {
  kv: createKvBackend,
  generic: createKvBackend,
  cubbyhole: createCubbyholeBackend,
};

export const authBackends: Record<string, BackendFactory> = {
  approle: createApproleBackend,
  cert: createCertBackend,
  userpass: createUserpassBackend,
};
