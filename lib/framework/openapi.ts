import type { BackendSpec, PathOperation, PathSpec } from './backend.js';
import type { FieldSchema } from './fields.js';

/**
 * An OpenAPI 3 document generated from the same declarations as `?help=1`, so neither can
 * drift from the routes that really exist.
 */

export interface MountedSpec {
  /** Mount point with trailing slash: `secret/`. */
  path: string;
  spec: BackendSpec;
}

const JSON_TYPES: Record<FieldSchema['type'], Record<string, unknown>> = {
  string: { type: 'string' },
  int: { type: 'integer' },
  bool: { type: 'boolean' },
  duration: { type: 'string', format: 'duration', description: 'a duration such as "30m", or seconds' },
  strings: { type: 'array', items: { type: 'string' } },
  map: { type: 'object', additionalProperties: { type: 'string' } },
  object: { type: 'object' },
  any: {},
};

const VERBS: Record<PathOperation, string> = { read: 'get', create: 'post', update: 'post', delete: 'delete', list: 'get' };

/** `keys/:name` → `keys/{name}`; a trailing wildcard becomes one templated parameter. */
function templatePath(pattern: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = pattern
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':') || segment.startsWith('*')) {
        params.push(segment.slice(1));
        return `{${segment.slice(1)}}`;
      }
      return segment;
    })
    .join('/');
  return { path, params };
}

function operationsOf(route: PathSpec): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  const { params } = templatePath(route.pattern);
  const parameters = params.map((name) => ({
    name,
    in: 'path',
    required: true,
    description: route.fields?.[name]?.description ?? name,
    schema: { type: 'string' },
  }));
  const bodyFields = Object.entries(route.fields ?? {}).filter(([name]) => !params.includes(name));
  for (const op of Object.keys(route.operations) as PathOperation[]) {
    const verb = VERBS[op];
    if (out[verb]) continue;
    const operation: Record<string, unknown> = { summary: route.synopsis, description: route.description, parameters: [...parameters] };
    if (op === 'list') {
      (operation.parameters as unknown[]).push({ name: 'list', in: 'query', required: true, schema: { type: 'string', enum: ['true'] } });
    }
    if (verb === 'post' && bodyFields.length > 0) {
      const properties: Record<string, unknown> = {};
      for (const [name, field] of bodyFields) properties[name] = { ...JSON_TYPES[field.type], description: field.description };
      const required = bodyFields.filter(([, f]) => f.required).map(([name]) => name);
      operation.requestBody = { content: { 'application/json': { schema: { type: 'object', properties, ...(required.length ? { required } : {}) } } } };
    }
    operation.responses = { '200': { description: 'OK' }, '204': { description: 'empty body' } };
    out[verb] = operation;
  }
  return out;
}

export function buildOpenApi(mounts: MountedSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const mount of [...mounts].sort((a, b) => a.path.localeCompare(b.path))) {
    for (const route of mount.spec.paths) {
      const key = `/${mount.path}${templatePath(route.pattern).path}`;
      paths[key] = { description: route.synopsis, ...operationsOf(route) };
    }
  }
  return {
    openapi: '3.0.2',
    info: { title: 'nomad-api', description: 'HTTP API of the nomad-api secrets server', version, license: { name: 'MPL-2.0' } },
    servers: [{ url: '/v1' }],
    components: {
      securitySchemes: { token: { type: 'apiKey', in: 'header', name: 'X-Nomad-Token' } },
    },
    security: [{ token: [] }],
    paths,
  };
}
