/**
 * The shape of lib/'s import graph: no cycles, and the layers import only
 * downwards. Type-only imports count as edges — a type cycle is still a design
 * cycle, and it turns into a runtime one the day a type import becomes a value.
 * The graph is built by spec/helpers/import-graph.ts, which is itself tested
 * below on synthetic files, so the checks cannot pass by seeing nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImportGraph,
  distinctEdgeCount,
  extractImports,
  findCycles,
  formatCycle,
  formatEdge,
  violations,
  type ImportGraph,
  type LayerRule,
} from '../helpers/import-graph.js';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

/** Fails with one line per problem under `header`, so the report reads without a diff. */
function expectNone(lines: string[], header: string): void {
  if (lines.length > 0) throw new Error(`${header} (${lines.length}):\n  ${lines.join('\n  ')}`);
  expect(lines).toEqual([]);
}

function checkRule(graph: ImportGraph, rule: LayerRule, header: string): void {
  expectNone(violations(graph, rule).map((e) => formatEdge(e, 'lib/')), header);
}

describe('lib/ import graph', () => {
  const graph = buildImportGraph(LIB);

  it('has no import cycle', () => {
    expectNone(
      findCycles(graph.adjacency).map((c) => formatCycle(c, 'lib/')),
      'import cycles in lib/ (the shortest cycle through every import that lies on one)',
    );
  });

  it('keeps lib/core/ and lib/framework/ from importing lib/http/', () => {
    checkRule(graph, { from: ['core/', 'framework/'], to: ['http/'] }, 'lib/core/ or lib/framework/ imports lib/http/');
  });

  it('keeps lib/core/ from importing lib/backends/', () => {
    // Core reaches concrete backends only through the registries lib/server.ts
    // injects; core's own sys and token backends belong under lib/core/.
    checkRule(graph, { from: ['core/'], to: ['backends/'] }, 'lib/core/ imports lib/backends/');
  });

  it('lets lib/framework/ import from lib/core/ only lib/core/request.ts', () => {
    // Today (checked when this spec was written) framework/ imports exactly one
    // core file: framework/backend.ts takes the request/response shapes from
    // core/request.ts. That is the whole allowance.
    checkRule(
      graph,
      { from: ['framework/'], to: ['core/'], except: ['core/request.ts'] },
      'lib/framework/ imports lib/core/ beyond core/request.ts',
    );
  });

  it('resolves every relative import to a file under lib/', () => {
    expectNone(
      [
        ...graph.unresolved.map((u) => `lib/${u.from}:${u.line} ${u.kind} '${u.specifier}': ${u.reason}`),
        ...graph.nonLiteral.map((d) => `lib/${d.from}:${d.line} import(…) without a literal specifier: an edge this spec cannot see`),
      ],
      'imports that do not resolve',
    );
  });
});

describe('the import-graph helper', () => {
  let root = '';
  const write = (file: string, text: string): void => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'nomad-import-graph-'));
    // A cycle a → b → c → a whose edges are a type-only import, an `export *`
    // and a plain import.
    write('a.ts', "import type { B } from './b.js';\nexport const a: B | undefined = undefined;\n");
    write('b.ts', "export * from './c.js';\nexport interface B { b: true }\n");
    write('c.ts', "import { a } from './a.js';\nexport const c = a;\n");
    // A file that imports itself (type-only).
    write('self.ts', "import type { S } from './self.js';\nexport interface S { s?: S }\n");
    // Import look-alikes in comments, strings, templates and regexes; one real import.
    write('tricky.ts', [
      "// import x from './y.js'",
      "/* import x from './y.js' */",
      '/**',
      " * import x from './y.js'",
      " * export * from './y.js'",
      ' */',
      'const s = "import x from \'./y.js\'";',
      "const t = 'export * from \"./y.js\"';",
      'const u = `',
      "import x from './y.js'",
      "${'import(\"./y.js\")'} and ${`import './y.js'`}",
      '`;',
      'const r = /\'import x from "\\.\\/y.js"/;',
      "const url = 'http://example.com/'; import { real } from './real.js';",
      "const half = 4 / 2; const q = '/* not a comment */'; import './real.js';",
      'const star = /[/*]+/; const tick = /`/; // regexes that open a comment or a template if misread',
      "import { real as again } from './real.js';",
      'export const all = [s, t, u, r, url, half, q, real, star, tick, again];',
      '',
    ].join('\n'));
    write('real.ts', 'export const real = 1;\n');
    // Every statement form the helper claims to see.
    write('forms.ts', [
      'import {',
      '  a,',
      "} from './a.js';",
      "import type{ B }from'./b.js';",
      "import * as cs from './c.js';",
      "import def, { type S } from './self.js';",
      "import './real.js';",
      "import sub from './sub';",
      "import { readFileSync } from 'node:fs';",
      "export type { B as B2 } from './b.js';",
      "export * as ns from './c.js';",
      "export { real as r2 } from './real.js';",
      "export const lazy = () => import('./lazy.js');",
      'export type Lazy = typeof import(`./lazy.js`);',
      'export const meta = import.meta.url;',
      'export const all = [a, cs, def, sub, readFileSync];',
      'export type T = B | S;',
      '',
    ].join('\n'));
    write('lazy.ts', 'export default 1;\n');
    write('sub/index.ts', 'export default 2;\n');
    // A typo, and an import the graph cannot see.
    write('typo.ts', "import { real } from './rael.js';\nconst name = './real.js';\nexport const m = import(name);\nexport { real };\n");
    // Layers: core/ importing http/ and its allowed neighbour.
    write('core/k.ts', "import type { H } from '../http/h.js';\nimport type { Q } from './request.js';\nexport type K = H | Q;\n");
    write('core/request.ts', 'export type Q = 1;\n');
    write('http/h.ts', 'export type H = 2;\n');
  });

  afterAll(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  it('finds a cycle through a type-only import and an export *, and a self-import', () => {
    const g = buildImportGraph(root);
    expect(findCycles(g.adjacency).map((c) => formatCycle(c))).toEqual([
      'self.ts → self.ts',
      'a.ts → b.ts → c.ts → a.ts',
    ]);
    expect(g.edges.filter((e) => e.from === 'a.ts').map((e) => [e.to, e.kind])).toEqual([['b.ts', 'import type']]);
    expect(g.edges.filter((e) => e.from === 'b.ts').map((e) => [e.to, e.kind])).toEqual([['c.ts', 'export']]);
  });

  it('does not take comments, strings, templates or regexes for imports', () => {
    const g = buildImportGraph(root);
    expect(g.edges.filter((e) => e.from === 'tricky.ts').map((e) => [e.to, e.line])).toEqual([['real.ts', 14], ['real.ts', 15], ['real.ts', 17]]);
    expect(g.unresolved.filter((u) => u.from === 'tricky.ts')).toEqual([]);
    expect(extractImports("// import x from './y.js'\nconst s = \"import x from './y.js'\";\n").imports).toEqual([]);
  });

  it('sees every statement form and resolves .js to .ts and a folder to its index.ts', () => {
    const g = buildImportGraph(root);
    expect(g.edges.filter((e) => e.from === 'forms.ts').map((e) => `${e.line} ${e.kind} ${e.to}`)).toEqual([
      '1 import a.ts',
      '4 import type b.ts',
      '5 import c.ts',
      '6 import self.ts',
      '7 side-effect real.ts',
      '8 import sub/index.ts',
      '10 export type b.ts',
      '11 export c.ts',
      '12 export real.ts',
      '13 dynamic lazy.ts',
      '14 dynamic lazy.ts',
    ]);
  });

  it('reports an import that resolves to nothing, and a non-literal import(), instead of dropping them', () => {
    const g = buildImportGraph(root);
    expect(g.unresolved.map((u) => `${u.from}:${u.line} ${u.specifier}`)).toEqual(['typo.ts:1 ./rael.js']);
    expect(g.nonLiteral).toEqual([{ from: 'typo.ts', line: 3 }]);
    expect(g.edges.filter((e) => e.from === 'typo.ts')).toEqual([]);
  });

  it('finds the edges that break a layer rule, minus the allowed ones', () => {
    const g = buildImportGraph(root);
    expect(violations(g, { from: ['core/'], to: ['http/', 'core/'] }).map((e) => formatEdge(e))).toEqual([
      "core/k.ts:1 → http/h.ts (import type '../http/h.js')",
      "core/k.ts:2 → core/request.ts (import type './request.js')",
    ]);
    expect(violations(g, { from: ['core/'], to: ['core/', 'http/'], except: ['core/request.ts', 'http/h.ts'] })).toEqual([]);
  });

  it('sees a non-trivial graph in lib/, with the layers the rules name', () => {
    const g = buildImportGraph(LIB);
    expect(g.files.length).toBeGreaterThan(50);
    expect(distinctEdgeCount(g)).toBeGreaterThan(100);
    for (const dir of ['core/', 'framework/', 'http/', 'backends/']) {
      expect(g.files.some((f) => f.startsWith(dir)), `no files under lib/${dir}`).toBe(true);
    }
    expect(g.files).toContain('core/request.ts');
    expect(g.files).toContain('server.ts');
  });
});
