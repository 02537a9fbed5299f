import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Secrets typed at a terminal: `operator unseal` and `login -method=userpass` prompt with
 * echo off. util-linux `script` gives the CLI a real pseudo-terminal; what the "user"
 * types is written to it once the prompt shows.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ sealed: true, shares: 3, threshold: 2 });
});
afterAll(() => server?.close());

/** Runs the CLI on a pty, types `typed` + Enter after `prompt` appears, resolves what the terminal showed. */
function onTerminal(args: string[], prompt: string, typed: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, NOMAD_TOKEN: '', NOMAD_CACERT: '', ...env } });
  let screen = '';
  let typedYet = false;
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString();
    if (!typedYet && screen.includes(prompt)) {
      typedYet = true;
      child.stdin.write(`${typed}\r`);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

describe('prompts without echo', () => {
  it('operator unseal with no key prompts for it, hides it and shows the progress', async () => {
    const result = await onTerminal(['operator', 'unseal'], 'Unseal Key (will be hidden): ', server.keys[1]!, { NOMAD_ADDR: server.url });
    expect(result.code, result.screen).toBe(0);
    expect(result.screen).toMatch(/Unseal Progress\s+1\/2/);
    expect(result.screen).not.toContain(server.keys[1]!);
  });

  it('login -method=userpass without password= prompts for it and hides it', async () => {
    await server.unseal();
    const auth = await server.request('POST', '/v1/sys/auth/userpass', { token: server.rootToken, body: { type: 'userpass' } });
    expect(auth.status).toBe(204);
    await server.request('POST', '/v1/auth/userpass/users/u', { token: server.rootToken, body: { password: 'typed-at-the-prompt' } });
    const result = await onTerminal(['login', '-method=userpass', '-no-store', 'username=u'], 'Password (will be hidden): ', 'typed-at-the-prompt', { NOMAD_ADDR: server.url });
    expect(result.code, result.screen).toBe(0);
    expect(result.screen).toContain('Success! You are now authenticated');
    expect(result.screen).not.toContain('typed-at-the-prompt');
  });
});
