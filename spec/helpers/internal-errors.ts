/**
 * The one error every "no silent 500" guard throws: `TestServer.close()` (server.ts, for
 * servers a spec closes itself) and setup.ts's hooks (servers still open, and programs
 * spawned with cli.ts). A 500 a test means to provoke is taken with `expectInternalErrors()`
 * first, and asserted on.
 */

/** The stack (or message) of one recorded 500. */
export function describeInternalError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** The detailed error for `unexpected` 500s, or undefined when there are none. */
export function unexpectedInternalErrors(unexpected: readonly unknown[], what = 'the test server'): Error | undefined {
  if (unexpected.length === 0) return undefined;
  const detail = unexpected.map(describeInternalError).join('\n---\n');
  return new Error(`${what} answered ${unexpected.length} unexpected 500(s):\n${detail}`);
}
