import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TestServer } from './server.js';

/** Temp folders for audit files, and the parsed lines of a log. */

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nomad-audit-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface AuditLine {
  type: string;
  seq: number;
  /** On the last line of each write (chain.ts). */
  chain?: string;
  crc: string;
  prev?: string;
  auth: Record<string, any> | null;
  request: Record<string, any>;
  response?: Record<string, any> | null;
  error: string;
}

export function auditLines(file: string): AuditLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditLine);
}

export async function enableFileDevice(server: TestServer, path: string, options: Record<string, unknown>): Promise<void> {
  const res = await server.request('PUT', `/v1/sys/audit/${path}`, { token: server.rootToken, body: { type: 'file', options } });
  expect(res.status, res.text).toBe(204);
}
