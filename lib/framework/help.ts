import type { BackendSpec, PathSpec } from './types.js';

/** Help text generated from a backend's declarations (api.md §12). */

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}

export function renderPathHelp(requestPath: string, path: PathSpec, methods: string[]): string {
  const lines = [
    `Request:        ${requestPath}`,
    `Matching Route: ${path.pattern}`,
    `Methods:        ${methods.join(', ')}`,
    '',
    path.synopsis,
  ];
  const fields = Object.entries(path.fields ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (fields.length > 0) {
    lines.push('', '## PARAMETERS', '');
    for (const [name, field] of fields) {
      const suffix = field.required ? ', required' : '';
      lines.push(indent(`${name} (${field.type}${suffix})`, 4), indent(field.description, 8), '');
    }
    lines.pop();
  }
  lines.push('', '## DESCRIPTION', '', path.description.trim());
  return lines.join('\n');
}

export function renderRootHelp(spec: BackendSpec): string {
  const lines = ['## DESCRIPTION', '', spec.help.trim(), '', '## PATHS', ''];
  lines.push('The following paths are supported by this backend. To view help for', 'any of the paths below, use the help command with any route matching', 'the path pattern.', '');
  const paths = [...spec.paths].sort((a, b) => a.pattern.localeCompare(b.pattern));
  for (const path of paths) lines.push(indent(path.pattern, 4), indent(path.synopsis, 8), '');
  lines.pop();
  return lines.join('\n');
}
