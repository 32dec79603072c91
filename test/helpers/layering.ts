// The layering rule of README.md's Layout, as data, and the check that finds backward imports.
// Lowest first: protocol ← mux ← common ← relay, agent; the extension sits on protocol and common
// and talks to the agent only over JSON-RPC. Tests, the benchmark and scripts sit above everything.
import { SourceImports } from './import-graph';

export type Area = 'protocol' | 'mux' | 'common' | 'relay' | 'agent' | 'extension';

/** Which other areas each area may import (its own files are always allowed). */
export const MAY_IMPORT: Record<Area, readonly Area[]> = {
  protocol: [],
  mux: ['protocol'],
  common: ['protocol', 'mux'],
  relay: ['protocol', 'mux', 'common'],
  agent: ['protocol', 'mux', 'common'],
  extension: ['protocol', 'common'],
};

/** The agent's command line: only its own files and the agent's entry point may import it. */
export const CLI_FOLDER = 'agent/src/cli/';
export const CLI_IMPORTERS: readonly string[] = ['agent/src/main.ts'];

/** Composition roots wire everything together; nothing imports them but the listed files. */
export const COMPOSITION_ROOTS: Readonly<Record<string, readonly string[]>> = {
  'agent/src/main.ts': [],
  'relay/src/main.ts': [],
  'relay/src/relay-server.ts': ['relay/src/main.ts'],
  'extension/src/extension.ts': [],
};

/**
 * Backward imports that exist today and are being removed on other branches. Each entry is
 * 'importer -> imported'. Empty this list as they go: an entry that no longer occurs fails the test.
 */
export const KNOWN_VIOLATIONS: readonly string[] = [
];

export interface Violation {
  /** 'importer -> imported', the form KNOWN_VIOLATIONS uses. */
  edge: string;
  why: string;
}

/** Source folder → area; undefined for tests, benchmark and scripts (free to import anything). */
export function areaOf(file: string): Area | undefined {
  const [top, second] = file.split('/');
  if (top === 'protocol' || top === 'mux' || top === 'common') return top;
  if ((top === 'agent' || top === 'relay' || top === 'extension') && second === 'src') return top;
  return undefined;
}

/** Every import in the graph that breaks the layering rule. */
export function layeringViolations(graph: readonly SourceImports[]): Violation[] {
  const violations: Violation[] = [];
  for (const { file, files } of graph) {
    const from = areaOf(file);
    if (from === undefined) continue;
    for (const target of files) {
      const why = whyForbidden(file, from, target);
      if (why) violations.push({ edge: `${file} -> ${target}`, why });
    }
  }
  return violations;
}

function whyForbidden(file: string, from: Area, target: string): string | undefined {
  const to = areaOf(target);
  // A package reads its own manifest (its version); that is data, not a layer.
  if (target === `${from}/package.json`) return undefined;
  if (to === undefined) return `${from} source imports ${target}, which is not source (tests, benchmark, scripts)`;
  if (to !== from && !MAY_IMPORT[from].includes(to)) return `${from} may import only ${[from, ...MAY_IMPORT[from]].join(', ')}, not ${to}`;
  if (target.startsWith(CLI_FOLDER) && !file.startsWith(CLI_FOLDER) && !CLI_IMPORTERS.includes(file)) {
    return `only ${CLI_FOLDER} itself and ${CLI_IMPORTERS.join(', ')} may import the CLI`;
  }
  const rootImporters = COMPOSITION_ROOTS[target];
  if (rootImporters && !rootImporters.includes(file)) return `${target} is a composition root: nothing imports it${rootImporters.length ? ` but ${rootImporters.join(', ')}` : ''}`;
  return undefined;
}
