/** The server version reported by sys/seal-status and sys/health; kept equal to package.json by a spec. */
export const VERSION = '0.1.0';
