import { open } from 'node:fs/promises';

/**
 * The end of a file a device reopens, read from the end in chunks, so a large log costs a few
 * reads, not the whole file: its last complete line (without the newline; '' when there is
 * none), and whether the file ends in the middle of a line (a write torn by a crash).
 */

const CHUNK = 64 * 1024;

export interface FileTail {
  lastComplete: string;
  torn: boolean;
}

export async function readTail(path: string, size: number): Promise<FileTail> {
  const handle = await open(path, 'r');
  try {
    let end = size;
    let tail = Buffer.alloc(0);
    let torn: boolean | undefined;
    while (end > 0) {
      const start = Math.max(0, end - CHUNK);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      tail = Buffer.concat([chunk, tail]);
      end = start;
      torn ??= tail.at(-1) !== 0x0a;
      // The complete lines end at the last newline; the last of them starts after the newline before it.
      const lastNewline = tail.lastIndexOf(0x0a);
      if (lastNewline === -1) {
        if (end === 0) return { lastComplete: '', torn };
        continue;
      }
      const body = tail.subarray(0, lastNewline);
      const before = body.lastIndexOf(0x0a);
      if (before !== -1) return { lastComplete: body.subarray(before + 1).toString('utf8'), torn };
      if (end === 0) return { lastComplete: body.toString('utf8'), torn };
    }
    return { lastComplete: '', torn: false };
  } finally {
    await handle.close();
  }
}
