import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.js';
import { refuseWhatFollows } from './client-error.js';
import { checkJsonLimits, type JsonLimits } from './json-limits.js';

/**
 * Reads a request body as one JSON object, never more than `limit` bytes: past the
 * limit it stops reading and answers 413, and the connection is closed after it.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function tooLarge(limit: number): ApiError {
  return new ApiError('ERR_BODY_TOO_LARGE', `request body too large: the limit is ${limit} bytes`);
}


export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        // We are inside node's parser, which may reach a request after this body before the
        // rejection is handled: it must not run.
        refuseWhatFollows(req.socket);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new ApiError('ERR_INVALID_REQUEST', 'failed to read the request body', { cause: err }));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * Parses a body into an object, within the listener's JSON limits; the error never quotes
 * the body, which may hold secrets.
 */
export function parseJsonObject(bytes: Buffer, limits: JsonLimits): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ApiError('ERR_INVALID_JSON', 'the request body is not valid UTF-8');
  }
  if (text.trim() === '') return {};
  checkJsonLimits(bytes, limits);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec(String((err as Error).message))?.[1];
    throw new ApiError('ERR_INVALID_JSON', `failed to parse JSON input${position ? ` at position ${position}` : ''}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('ERR_INVALID_JSON', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
