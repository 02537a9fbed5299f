/** The call every typed group is built on (the client's request, with the extra options). */
export interface RawRequestOptions {
  query?: Record<string, string>;
  /** Overrides the client's token for this call; null sends none. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Statuses >= 400 answered as a body rather than thrown (sys/health). */
  acceptStatus?: readonly number[];
  /** Resolve the answer's bytes (a Buffer) instead of its parsed JSON: binary answers (a storage snapshot). */
  binary?: boolean;
}

export type RawRequest = (method: string, path: string, body?: unknown, options?: RawRequestOptions) => Promise<any>;
