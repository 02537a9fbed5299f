import type { Storage } from '../storage/storage.js';

/**
 * The shapes shared by the HTTP edge, the core, the framework and the backends.
 * Data flows down: http builds a Request, core checks it and hands a BackendRequest to
 * the backend that owns the path, the backend answers a Response.
 */

/** `create` and `update` are both HTTP writes; core tells them apart by an existence check. */
export type Operation = 'read' | 'create' | 'update' | 'delete' | 'list' | 'help';

export interface TlsInfo {
  /** The DER of the client certificate the peer presented, if any (not verified by the listener). */
  peerCertificate?: Buffer;
  /**
   * The DER of the certificates above it that node could link by issuer, nearest first
   * (intermediates the client sent, perhaps a root): unverified, for the cert backend to check.
   */
  peerChain?: Buffer[];
  /**
   * The connection resumed an earlier TLS session: OpenSSL keeps only the peer's own
   * certificate in a session, so `peerChain` is then empty whatever the client first sent.
   */
  sessionResumed?: boolean;
}

/**
 * A slot the HTTP edge keeps for each connection and hands to the core with every request
 * on it: the token store remembers there the last token the connection sent and its hash,
 * so a client that sends the same token again costs a constant-time compare instead of a
 * hash. It only ever holds a token that connection itself sent.
 */
export interface TokenMemo {
  token: string;
  hash: string;
  /** The token store's salt generation the hash was made with. */
  generation: number;
}

/**
 * A request body the HTTP edge has not read (nor parsed as JSON), for the one route that takes
 * raw bytes (sys/storage/snapshot-force): read only once the request is authorized, with the
 * route's own limit. Over the limit it rejects with ERR_BODY_TOO_LARGE (413).
 */
export interface RawBody {
  readonly contentType: string;
  read(limit: number): Promise<Buffer>;
}

export interface Request {
  /** A UUID for logs and the response's `request_id`. */
  id: string;
  operation: Operation;
  /** The path after `/v1/`, without a leading slash: `secret/foo`. */
  path: string;
  /** The request target as sent (`/v1/secret/foo?list=true`), for a standby's redirect; absent in-process. */
  target?: string;
  /** The JSON body (an object), merged with nothing else; `{}` when there was none. */
  data: Record<string, unknown>;
  /** Query parameters other than `help` and `list`. */
  query: Record<string, string>;
  /** The raw client token, '' when none was sent. Only core and the token store see it. */
  clientToken: string;
  remoteAddress: string;
  /** Present when the request came over TLS. */
  tls?: TlsInfo;
  /** Set to the HTTP method when it maps to no operation: answered 405 once routed. */
  unsupportedMethod?: string;
  /** The connection's token memo (see TokenMemo); absent for in-process requests. */
  tokenMemo?: TokenMemo;
  /** When the edge took the request (metrics/clock.ts ticks), or UNTIMED: its latency, for the metrics. */
  receivedAt?: number;
  /** How many requests its latency stands for in the histogram (metrics/clock.ts: sampling). */
  timeWeight?: number;
  /** Where the core routed it (mounts.ts RouteResult: the mount, the path inside it), for the metrics' route label. */
  routedMount?: RoutedMount;
  routedPath?: string;
  /** The unread body of a raw-body route (see RawBody); `data` is then `{}`. */
  rawBody?: RawBody;
}

/** The part of a mount the request metrics read: its path and its backend's route patterns. */
export interface RoutedMount {
  readonly entry: { readonly path: string };
  readonly backend: { patternOf(path: string): string | undefined };
}

/** Who is calling, as established by core from the client token. */
export interface CallerAuth {
  /** The keyed hash of the token: the token's identity in storage and in other backends. */
  tokenHash: string;
  accessor: string;
  policies: string[];
  displayName: string;
  metadata: Record<string, string>;
  /** Whether the caller holds the `root` policy. */
  root: boolean;
}

export interface BackendRequest {
  id: string;
  operation: Operation;
  /** The path relative to the mount point: `foo` for `secret/foo`. */
  path: string;
  data: Record<string, unknown>;
  query: Record<string, string>;
  /** The mount point this request was routed to, with its trailing slash: `secret/`. */
  mountPoint: string;
  /** This mount's private storage view. */
  storage: Storage;
  /** The authenticated caller; null on unauthenticated paths. */
  caller: CallerAuth | null;
  remoteAddress: string;
  tls?: TlsInfo;
  /** The raw client token; set only for the token store, cleared for every other backend. */
  clientToken: string;
  /** The unread body of a raw-body route (see RawBody). */
  rawBody?: RawBody;
}

export interface LeaseInfo {
  /** Seconds the secret is valid for; 0 means the mount default applies. */
  ttl: number;
  renewable: boolean;
  /** Register a lease whose expiry revokes the secret (kv's advisory ttl is not one). */
  revocable?: boolean;
  /** What the backend needs to revoke it later; stored with the lease, never sent. */
  internal?: Record<string, unknown>;
  /** Set by core once the lease is registered. */
  leaseId?: string;
}

/** A token handed to the client: the envelope's `auth` block. */
export interface AuthInfo {
  clientToken: string;
  accessor: string;
  policies: string[];
  metadata: Record<string, string>;
  leaseDuration: number;
  renewable: boolean;
  orphan: boolean;
}

/**
 * What an auth backend's login answers: who the caller proved to be and what token they
 * get. The pipeline, not the backend, creates the token from it (core/login.ts).
 */
export interface LoginAuth {
  policies: string[];
  /** Seconds; 0 means the mount's default TTL. */
  ttl?: number;
  /** Seconds; a limit renewals never pass (at most the mount's maximum); 0 means the mount's maximum. */
  maxTtl?: number;
  /** Seconds; a periodic token's TTL is reset to this on every renewal. */
  period?: number;
  metadata?: Record<string, string>;
  /** Shown in lookups as `<mount path>-<displayName>`, e.g. `userpass-alice` for `auth/userpass/`. */
  displayName?: string;
  /** 0 means unlimited. */
  numUses?: number;
  /** CIDR blocks the token may be used from; empty means anywhere. */
  boundCidrs?: string[];
  /** Default true; a token without a TTL is never renewable. */
  renewable?: boolean;
  /** Do not attach the `default` policy. */
  noDefaultPolicy?: boolean;
}

export interface Response {
  data?: Record<string, unknown> | null;
  /** `data` already serialized (kv hands back the JSON it stored); used instead of `data`. */
  dataJson?: string;
  /** The UTF-8 length of `dataJson` in bytes, where the backend knows it: spares the edge a scan of the answer. */
  dataBytes?: number;
  /** For secrets that carry a lease (api.md §11). */
  secret?: LeaseInfo;
  auth?: AuthInfo;
  /** Set by an auth backend's login handler; the pipeline turns it into `auth` (a new token). */
  login?: LoginAuth;
  warnings?: string[];
  /** Send `data` as the whole body instead of the envelope (sys/health, the OpenAPI document, help). */
  raw?: boolean;
  /** Repeat `data`'s fields at the top level of the envelope, as Vault's `sys/` answers do (api.md §5). */
  topLevel?: boolean;
  /** Overrides the status (sys/health's 429/501/503 with a body). */
  status?: number;
  headers?: Record<string, string>;
  /** A body that is not JSON (sys/metrics' Prometheus text), sent as it is with its type. */
  text?: { body: string; contentType: string };
  /** A binary body streamed in chunks (a storage snapshot), with its type and exact length. */
  binary?: { chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>; contentType: string; length: number; filename?: string };
  /** A login answer: the edge sets the `token` cookie (api.md §4). Set by the pipeline only. */
  setCookie?: boolean;
}
