import { ApiError } from '../errors.js';
import { parseDuration } from '../duration.js';

/**
 * Declared request fields: every path lists the fields it reads, with a type and a
 * description, so validation, help text and the OpenAPI document come from one place.
 */
export type FieldType = 'string' | 'int' | 'bool' | 'duration' | 'strings' | 'map' | 'object' | 'any';

export interface FieldSchema {
  type: FieldType;
  description: string;
  default?: unknown;
  required?: boolean;
}

export type FieldSchemas = Record<string, FieldSchema>;

const invalid = (name: string, what: string): ApiError =>
  new ApiError('ERR_INVALID_FIELD', `field '${name}' must be ${what}`);

/** Converts one raw JSON value to the declared type; throws a 400 naming the field. */
export function coerceField(name: string, schema: FieldSchema, value: unknown): unknown {
  switch (schema.type) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw invalid(name, 'a string');
    case 'int': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
      throw invalid(name, 'an integer');
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1' || value === 1) return true;
      if (value === 'false' || value === '0' || value === 0 || value === '') return false;
      throw invalid(name, 'a boolean');
    case 'duration':
      if (typeof value !== 'string' && typeof value !== 'number') throw invalid(name, 'a duration');
      try {
        return parseDuration(value);
      } catch {
        throw invalid(name, 'a duration such as "30m" or a number of seconds');
      }
    case 'strings':
      // Vault accepts both ["a","b"] and "a,b" for list fields such as policies.
      if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((s) => s.trim());
      throw invalid(name, 'a list of strings or a comma-separated string');
    case 'map':
      if (isPlainObject(value) && Object.values(value).every((v) => typeof v === 'string')) return value;
      throw invalid(name, 'an object of string values');
    case 'object':
      if (isPlainObject(value)) return value;
      throw invalid(name, 'an object');
    case 'any':
      return value;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The validated fields of one request: URL captures win over body fields of the same name. */
export class FieldData {
  readonly #schemas: FieldSchemas;
  readonly #data: Record<string, unknown>;
  readonly #params: Record<string, string> | undefined;
  // Made on first use: most reads never look at a field, and every request builds a FieldData.
  #cache: Map<string, unknown> | undefined;

  /** `params` are the URL captures; they are looked up before `data` (the body or query). */
  constructor(schemas: FieldSchemas, data: Record<string, unknown>, params?: Record<string, string>) {
    this.#schemas = schemas;
    this.#data = data;
    this.#params = params;
  }

  #input(name: string): unknown {
    const params = this.#params;
    return params !== undefined && Object.hasOwn(params, name) ? params[name] : this.#data[name];
  }

  /** The coerced value, the declared default, or undefined. */
  get<V = unknown>(name: string): V {
    const cache = (this.#cache ??= new Map<string, unknown>());
    if (cache.has(name)) return cache.get(name) as V;
    const schema = this.#schemas[name];
    if (!schema) throw new Error(`field '${name}' is not declared`);
    const raw = this.#input(name);
    const value = raw === undefined || raw === null ? schema.default : coerceField(name, schema, raw);
    cache.set(name, value);
    return value as V;
  }

  /** Whether the request supplied the field at all. */
  has(name: string): boolean {
    const raw = this.#input(name);
    return raw !== undefined && raw !== null;
  }

  /** Validates every declared field present and, for writes, that required ones are there. */
  validate(write: boolean): void {
    for (const name in this.#schemas) {
      const schema = this.#schemas[name]!;
      if (write && schema.required && !this.has(name)) {
        throw new ApiError('ERR_MISSING_FIELD', `missing required field '${name}'`);
      }
      if (this.has(name)) this.get(name);
    }
  }
}
