/**
 * What the server answers, typed (api.md §5–§11). Fields the client does not promise are
 * left open (`[key: string]: unknown`) so a newer server's extra fields still type-check.
 */

/** The standard envelope around non-sys answers. */
export interface Envelope<T = Record<string, unknown>> {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: T | null;
  wrap_info: unknown;
  warnings: string[] | null;
  auth: AuthInfo | null;
}

export interface AuthInfo {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies?: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id?: string;
  token_type?: string;
  orphan?: boolean;
  [key: string]: unknown;
}

export interface InitRequest {
  secret_shares: number;
  secret_threshold: number;
}

export interface InitResponse {
  keys: string[];
  keys_base64: string[];
  root_token: string;
}

export interface SealStatus {
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  initialized: boolean;
  version: string;
  storage_type?: string;
  ha_enabled?: boolean;
  [key: string]: unknown;
}

export interface HealthQuery {
  standbyok?: boolean;
  sealedcode?: number;
  uninitcode?: number;
  standbycode?: number;
  activecode?: number;
}

export interface HealthStatus {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  version: string;
  server_time_utc: number;
  [key: string]: unknown;
}

export interface LeaderStatus {
  ha_enabled: boolean;
  is_self: boolean;
  leader_address: string;
  [key: string]: unknown;
}

export interface KeyStatus {
  term: number;
  install_time: string;
  [key: string]: unknown;
}

export interface MountConfig {
  default_lease_ttl?: number | string;
  max_lease_ttl?: number | string;
  [key: string]: unknown;
}

export interface MountInput {
  type: string;
  description?: string;
  config?: MountConfig;
  options?: Record<string, string>;
  local?: boolean;
  seal_wrap?: boolean;
}

export interface MountInfo {
  type: string;
  description: string;
  accessor: string;
  uuid?: string;
  config: MountConfig;
  options: Record<string, string> | null;
  local?: boolean;
  seal_wrap?: boolean;
  [key: string]: unknown;
}

export interface TuneInput {
  default_lease_ttl?: number | string;
  max_lease_ttl?: number | string;
  description?: string;
  [key: string]: unknown;
}

export interface AuditInput {
  type: string;
  description?: string;
  options?: Record<string, string>;
  local?: boolean;
}

export interface AuditDevice {
  type: string;
  description: string;
  path: string;
  options: Record<string, string> | null;
  [key: string]: unknown;
}

export interface RekeyStatus {
  started: boolean;
  nonce: string;
  t: number;
  n: number;
  progress: number;
  required: number;
  [key: string]: unknown;
}

export interface RekeyUpdate {
  complete: boolean;
  nonce: string;
  progress?: number;
  required?: number;
  keys?: string[];
  keys_base64?: string[];
}

export interface LeaseInfo {
  id: string;
  issue_time: string;
  expire_time: string | null;
  last_renewal: string | null;
  renewable: boolean;
  ttl: number;
  [key: string]: unknown;
}

export interface TokenCreateInput {
  policies?: string[];
  meta?: Record<string, string>;
  ttl?: string | number;
  explicit_max_ttl?: string | number;
  num_uses?: number;
  no_parent?: boolean;
  no_default_policy?: boolean;
  display_name?: string;
  renewable?: boolean;
  period?: string | number;
  id?: string;
  type?: string;
  [key: string]: unknown;
}

export interface TokenInfo {
  id?: string;
  accessor: string;
  policies: string[];
  ttl: number;
  creation_ttl?: number;
  creation_time?: number;
  expire_time?: string | null;
  display_name?: string;
  meta?: Record<string, string> | null;
  num_uses?: number;
  orphan?: boolean;
  renewable?: boolean;
  path?: string;
  type?: string;
  [key: string]: unknown;
}
