import { open } from 'node:fs/promises';

/**
 * The last complete line of a file (without its newline), read from the end in chunks, so a
 * device reopening a large log costs a few reads, not the whole file. '' for an empty file.
 */

const CHUNK = 64 * 1024;

export async function readLastLine(path: string, size: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    let end = size;
    let tail = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - CHUNK);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      tail = Buffer.concat([chunk, tail]);
      end = start;
      // Skip the final newline; look for the one before the last line.
      const body = tail.at(-1) === 0x0a ? tail.subarray(0, -1) : tail;
      const newline = body.lastIndexOf(0x0a);
      if (newline !== -1) return body.subarray(newline + 1).toString('utf8');
      if (end === 0) return body.toString('utf8');
    }
    return '';
  } finally {
    await handle.close();
  }
}
