// Every npm package a source file imports is declared in the package.json of the workspace the file
// belongs to or in the root one, so nothing works only because npm hoisted another workspace's
// dependency. Shared folders (protocol, mux, common) are checked for each bundle that includes them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readImportGraph, SourceImports } from '../helpers/import-graph';
import { ROOT } from '../helpers/processes';

const FOLDERS = ['protocol', 'mux', 'common', 'agent/src', 'relay/src', 'extension/src', 'test', 'bench', 'scripts'];
/** Provided by VS Code's extension host at run time (see engines.vscode), not by npm. */
const HOST_MODULES = ['vscode'];
/** Loaded by ws when installed (an optional native speed-up), never imported by our code. */
const LOADED_BY_A_DEPENDENCY = ['bufferutil'];

/** Shared folders belong to every bundle that includes them: checked per bundle. */
const SHARED = ['protocol', 'mux', 'common'];

type Workspace = 'root' | 'agent' | 'relay';
const BUNDLES: Record<string, Workspace> = {
  'agent/src/main.ts': 'agent',
  'relay/src/main.ts': 'relay',
  'extension/src/extension.ts': 'root',
};

function declaredIn(workspace: Workspace): Set<string> {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, workspace === 'root' ? '' : workspace, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const sections = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
  return new Set(sections.flatMap((section) => Object.keys(manifest[section] ?? {})));
}

const declared: Record<Workspace, Set<string>> = { root: declaredIn('root'), agent: declaredIn('agent'), relay: declaredIn('relay') };
const graph = readImportGraph(ROOT, FOLDERS);
const byFile = new Map(graph.map((s) => [s.file, s]));

function workspaceOf(file: string): Workspace {
  if (file.startsWith('agent/')) return 'agent';
  if (file.startsWith('relay/')) return 'relay';
  return 'root';
}

/** The files a bundle's entry point pulls in. */
function reachableFrom(entry: string): SourceImports[] {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file) || !byFile.has(file)) continue;
    seen.add(file);
    pending.push(...byFile.get(file)!.files);
  }
  return [...seen].map((file) => byFile.get(file)!);
}

const isDeclared = (pkg: string, workspace: Workspace) => HOST_MODULES.includes(pkg) || declared[workspace].has(pkg) || declared.root.has(pkg);

describe('declared dependencies', () => {
  it('every package imported is declared by the workspace of the importing file or the root', () => {
    const undeclared = graph.filter(({ file }) => !SHARED.includes(file.split('/')[0])).flatMap(({ file, packages }) =>
      packages.filter((pkg) => !isDeclared(pkg, workspaceOf(file))).map((pkg) => `${file} imports ${pkg}, not declared in ${workspaceOf(file)}'s package.json`),
    );
    assert.deepEqual(undeclared, []);
  });

  it('every package a bundle includes is declared by the workspace that ships it or the root', () => {
    const undeclared = Object.entries(BUNDLES).flatMap(([entry, workspace]) =>
      reachableFrom(entry).flatMap(({ file, packages }) =>
        packages.filter((pkg) => !isDeclared(pkg, workspace)).map((pkg) => `${entry} bundles ${file}, which imports ${pkg}, not declared in ${workspace}'s package.json`),
      ),
    );
    assert.deepEqual(undeclared, []);
  });

  it('agent and relay declare only packages their bundle imports', () => {
    const unused = (['agent', 'relay'] as const).flatMap((workspace) => {
      const entry = Object.keys(BUNDLES).find((e) => BUNDLES[e] === workspace)!;
      const imported = new Set(reachableFrom(entry).flatMap((s) => s.packages));
      return [...declared[workspace]].filter((pkg) => !imported.has(pkg) && !LOADED_BY_A_DEPENDENCY.includes(pkg)).map((pkg) => `${workspace} declares ${pkg}`);
    });
    assert.deepEqual(unused, []);
  });
});
