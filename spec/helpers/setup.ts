import { afterAll, afterEach } from 'vitest';
import { takeSpawnedInternalErrors } from './cli.js';
import { unexpectedInternalErrors } from './internal-errors.js';
import { liveServers } from './server.js';

/**
 * No silent 500s: a test fails if any test server answered a 500 it did not expect. A server
 * closed with `close()` is checked there (server.ts); this checks the ones still open, and
 * every program spawned with cli.ts, running or exited (a spawned server has no close()).
 */
async function noUnexpectedInternalErrors(): Promise<void> {
  const served: unknown[] = [];
  for (const server of liveServers()) served.push(...server.expectInternalErrors());
  const errors = [unexpectedInternalErrors(served), unexpectedInternalErrors(await takeSpawnedInternalErrors(), 'a spawned server')];
  const found = errors.filter((e) => e !== undefined);
  if (found.length === 1) throw found[0];
  if (found.length > 1) throw new Error(found.map((e) => e.message).join('\n\n'));
}

afterEach(noUnexpectedInternalErrors);

/** What a file's afterAll closed, killed or answered: setup.ts's hooks run after the file's own. */
afterAll(noUnexpectedInternalErrors);
