import { randomBytes as nodeRandomBytes, randomUUID as nodeRandomUUID } from 'node:crypto';

/**
 * The one place the server draws randomness from, so a test that needs fixed bytes can
 * replace it (`setRandomSource`) instead of stubbing node:crypto.
 */
export interface RandomSource {
  bytes(n: number): Buffer;
  uuid(): string;
}

const system: RandomSource = {
  bytes: (n) => nodeRandomBytes(n),
  uuid: () => nodeRandomUUID(),
};

let source: RandomSource = system;

export function randomBytes(n: number): Buffer {
  return source.bytes(n);
}

export function randomUUID(): string {
  return source.uuid();
}

/** Test hook: returns a function that restores the previous source. */
export function setRandomSource(next: RandomSource): () => void {
  const previous = source;
  source = next;
  return () => {
    source = previous;
  };
}
