import type { ListenerConfig } from '../config.js';
import { ApiError } from '../errors.js';

/**
 * The JSON limits of a listener (api.md §1, as Vault's listener has them). A body is scanned
 * against them before it is parsed, so a hostile one costs a pass over its bytes and no more:
 * `JSON.parse` itself takes seconds on ten million nested arrays, and `JSON.stringify` (which
 * every backend that stores a body calls) overflows the stack on a few thousand.
 */

export interface JsonLimits {
  /** Nesting depth of objects and arrays; the body's own object is depth 1 (`max_json_depth`). */
  maxDepth: number;
  /** Bytes in one string, keys included, as sent, escapes counted as written (`max_json_string_value_length`). */
  maxStringLength: number;
  /** Entries in one object (`max_json_object_entry_count`). */
  maxObjectEntries: number;
  /** Elements in one array (`max_json_array_element_count`). */
  maxArrayElements: number;
}

/** A listener's configured limits, as the scan takes them. */
export function jsonLimitsOf(listener: ListenerConfig): JsonLimits {
  return {
    maxDepth: listener.maxJsonDepth,
    maxStringLength: listener.maxJsonStringValueLength,
    maxObjectEntries: listener.maxJsonObjectEntryCount,
    maxArrayElements: listener.maxJsonArrayElementCount,
  };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function over(setting: string, limit: number, what: string): ApiError {
  return new ApiError('ERR_INVALID_JSON', `the request body exceeds ${setting} (${limit}): ${what}`);
}

/**
 * Throws a 400 naming the first limit the JSON text in `bytes` breaks. It reads structure
 * only (strings, brackets, commas) and leaves validity to the parser that follows; UTF-8
 * never puts those bytes inside a multi-byte character, so the byte scan is exact.
 */
export function checkJsonLimits(bytes: Uint8Array, limits: JsonLimits): void {
  // For each open container: whether it is an object, and the commas seen in it so far.
  const objects: boolean[] = [];
  const commas: number[] = [];
  const length = bytes.length;
  for (let i = 0; i < length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const start = i + 1;
      i = start;
      while (i < length && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1;
      if (Math.min(i, length) - start > limits.maxStringLength) throw over('max_json_string_value_length', limits.maxStringLength, 'a string is too long');
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (objects.length === limits.maxDepth) throw over('max_json_depth', limits.maxDepth, 'objects and arrays nest too deep');
      objects.push(c === OPEN_OBJECT);
      commas.push(0);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      objects.pop();
      commas.pop();
    } else if (c === COMMA && commas.length > 0) {
      const top = commas.length - 1;
      // n entries have n - 1 commas between them: this comma starts entry commas + 2.
      const entries = (commas[top] = commas[top]! + 1) + 1;
      if (objects[top]) {
        if (entries > limits.maxObjectEntries) throw over('max_json_object_entry_count', limits.maxObjectEntries, 'an object has too many entries');
      } else if (entries > limits.maxArrayElements) {
        throw over('max_json_array_element_count', limits.maxArrayElements, 'an array has too many elements');
      }
    }
  }
}
