// The layering rule (README.md, Layout) holds on the real source tree, and the check catches each
// kind of backward import on a fixture graph.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importsOf, readImportGraph, SourceImports } from '../helpers/import-graph';
import { KNOWN_VIOLATIONS, layeringViolations } from '../helpers/layering';
import { ROOT, tempDir } from '../helpers/processes';

const SOURCE_FOLDERS = ['protocol', 'mux', 'common', 'agent/src', 'relay/src', 'extension/src'];

const edgesOf = (graph: SourceImports[]) => layeringViolations(graph).map((v) => v.edge);
const graphOf = (edges: Record<string, string[]>): SourceImports[] =>
  Object.entries(edges).map(([file, files]) => ({ file, files, packages: [] }));

describe('layering of the source tree', () => {
  const violations = layeringViolations(readImportGraph(ROOT, SOURCE_FOLDERS));

  it('has no backward import besides the known ones', () => {
    const unknown = violations.filter((v) => !KNOWN_VIOLATIONS.includes(v.edge));
    assert.deepEqual(unknown.map((v) => `${v.edge}: ${v.why}`), []);
  });

  it('lists no known violation that is already fixed (remove it from KNOWN_VIOLATIONS)', () => {
    const found = new Set(violations.map((v) => v.edge));
    assert.deepEqual(KNOWN_VIOLATIONS.filter((edge) => !found.has(edge)), []);
  });
});

describe('layering check on a fixture graph', () => {
  it('accepts imports down the layers, inside an area, and from tests', () => {
    const graph = graphOf({
      'mux/session.ts': ['protocol/frame.ts'],
      'common/x.ts': ['mux/session.ts', 'protocol/frame.ts'],
      'relay/src/gateway.ts': ['common/x.ts', 'relay/src/host-router.ts'],
      'relay/src/main.ts': ['relay/src/relay-server.ts'],
      'agent/src/main.ts': ['agent/src/cli/run-cli.ts'],
      'agent/src/cli/run-cli.ts': ['agent/src/cli/args.ts', 'agent/src/config/schema.ts'],
      'extension/src/errors.ts': ['protocol/rpc.ts', 'common/malloc-tunables.ts'],
      'test/unit/a.test.ts': ['agent/src/cli/args.ts', 'relay/src/relay-server.ts', 'agent/src/main.ts'],
    });
    assert.deepEqual(edgesOf(graph), []);
  });

  it('refuses an import up the layers', () => {
    const graph = graphOf({
      'protocol/frame.ts': ['mux/session.ts'],
      'mux/session.ts': ['common/x.ts'],
      'common/x.ts': ['agent/src/config/schema.ts'],
      'agent/src/serve/y.ts': ['relay/src/host-router.ts'],
      'extension/src/z.ts': ['agent/src/rpc/server.ts', 'mux/session.ts'],
      'relay/src/w.ts': ['test/helpers/origin.ts'],
    });
    assert.deepEqual(edgesOf(graph), [
      'protocol/frame.ts -> mux/session.ts',
      'mux/session.ts -> common/x.ts',
      'common/x.ts -> agent/src/config/schema.ts',
      'agent/src/serve/y.ts -> relay/src/host-router.ts',
      'extension/src/z.ts -> agent/src/rpc/server.ts',
      'extension/src/z.ts -> mux/session.ts',
      'relay/src/w.ts -> test/helpers/origin.ts',
    ]);
  });

  it('refuses an import of the CLI from the rest of the agent', () => {
    const graph = graphOf({ 'agent/src/rpc/coded-errors.ts': ['agent/src/cli/args.ts'] });
    const [violation] = layeringViolations(graph);
    assert.equal(violation.edge, 'agent/src/rpc/coded-errors.ts -> agent/src/cli/args.ts');
    assert.match(violation.why, /may import the CLI/);
  });

  it('refuses an import of a composition root', () => {
    const graph = graphOf({
      'relay/src/tls/https-front.ts': ['relay/src/relay-server.ts'],
      'agent/src/cli/run-cli.ts': ['agent/src/main.ts'],
      'extension/src/views/a.ts': ['extension/src/extension.ts'],
    });
    assert.deepEqual(edgesOf(graph), [
      'relay/src/tls/https-front.ts -> relay/src/relay-server.ts',
      'agent/src/cli/run-cli.ts -> agent/src/main.ts',
      'extension/src/views/a.ts -> extension/src/extension.ts',
    ]);
  });
});

describe('import graph reader', () => {
  it('resolves relative imports to files and names packages, leaving node built-ins out', () => {
    const root = tempDir('portway-imports-');
    try {
      fs.mkdirSync(path.join(root, 'mux'));
      fs.mkdirSync(path.join(root, 'protocol', 'wire'), { recursive: true });
      fs.writeFileSync(path.join(root, 'protocol', 'frame.ts'), '');
      fs.writeFileSync(path.join(root, 'protocol', 'wire', 'index.ts'), '');
      fs.writeFileSync(
        path.join(root, 'mux', 'session.ts'),
        [
          "import { a } from '../protocol/frame';",
          "import type { B } from '../protocol/wire';",
          "export { c } from '../protocol/frame';",
          "import WebSocket from 'ws';",
          "import * as rpc from 'vscode-jsonrpc/node';",
          "import { x } from '@scope/pkg/deep';",
          "import * as fs from 'node:fs';",
          "import * as os from 'os';",
          "const later = import('undici');",
        ].join('\n'),
      );
      assert.deepEqual(importsOf(root, 'mux/session.ts'), {
        file: 'mux/session.ts',
        files: ['protocol/frame.ts', 'protocol/wire/index.ts'],
        packages: ['ws', 'vscode-jsonrpc', '@scope/pkg', 'undici'],
      });
      assert.deepEqual(readImportGraph(root, ['protocol']).map((s) => s.file).sort(), ['protocol/frame.ts', 'protocol/wire/index.ts']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
