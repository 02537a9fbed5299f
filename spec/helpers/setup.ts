import { afterEach } from 'vitest';
import { liveServers } from './server.js';

/** No silent 500s: a test fails if any test server answered 500 it did not expect. */
afterEach(() => {
  const unexpected: unknown[] = [];
  for (const server of liveServers()) unexpected.push(...server.expectInternalErrors());
  if (unexpected.length > 0) {
    const detail = unexpected.map((e) => (e instanceof Error ? e.stack ?? e.message : String(e))).join('\n---\n');
    throw new Error(`the test server answered ${unexpected.length} unexpected 500(s):\n${detail}`);
  }
});
