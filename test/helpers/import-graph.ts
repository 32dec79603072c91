// Reads which files and packages each TypeScript source imports, with the compiler's own scanner
// (ts.preProcessFile: import/export-from/import()/require, no type checking, so it stays fast).
// Used by the layering and declared-dependency tests.
import * as fs from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import * as ts from 'typescript';

export interface SourceImports {
  /** Repository-relative, '/'-separated, e.g. 'agent/src/main.ts'. */
  file: string;
  /** Our own files it imports (relative specifiers, resolved like the bundler does). */
  files: string[];
  /** npm packages it imports, by package name ('ws', '@scope/name'); node built-ins left out. */
  packages: string[];
}

/** Every .ts file (not .d.ts) below the given repository folders, with what it imports. */
export function readImportGraph(root: string, folders: string[]): SourceImports[] {
  return folders.flatMap((folder) => tsFilesBelow(root, folder)).map((file) => importsOf(root, file));
}

export function importsOf(root: string, file: string): SourceImports {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  const files: string[] = [];
  const packages: string[] = [];
  for (const specifier of specifiers) {
    if (specifier.startsWith('.')) files.push(resolveRelative(root, file, specifier));
    else if (!isBuiltin(specifier)) packages.push(packageName(specifier));
  }
  return { file, files: [...new Set(files)], packages: [...new Set(packages)] };
}

/** 'ws/lib/x' → 'ws'; '@vscode/vsce/out' → '@vscode/vsce'. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function resolveRelative(root: string, importer: string, specifier: string): string {
  const target = path.posix.join(path.posix.dirname(importer), specifier);
  const candidates = [`${target}.ts`, `${target}/index.ts`, target];
  return candidates.find((c) => fs.existsSync(path.join(root, c)) && fs.statSync(path.join(root, c)).isFile()) ?? target;
}

function tsFilesBelow(root: string, folder: string): string[] {
  const dir = path.join(root, folder);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFilesBelow(root, relative);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [relative] : [];
  });
}
