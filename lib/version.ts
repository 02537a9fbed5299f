/** The server version reported by sys/seal-status and sys/health; kept equal to package.json by a spec. */
export const VERSION = '0.1.0';

/** Set by the single-executable build (scripts/package.mjs, esbuild `define`) to `git rev-parse --short HEAD`. */
declare const NOMAD_API_COMMIT: string | undefined;

/**
 * The commit this program was built from: known in the single executable, which is built from
 * a checkout; 'unknown' in the dist/ build (tsc has no way to embed it, and asking git at run
 * time would answer for whatever directory the program happens to run in).
 */
export const COMMIT: string = typeof NOMAD_API_COMMIT === 'string' && NOMAD_API_COMMIT !== '' ? NOMAD_API_COMMIT : 'unknown';
