/**
 * The manifest and the code agree (every command, view and setting declared once in ids.ts is
 * contributed, and nothing else), and the packaged extension holds only what it should.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Command, Setting, View } from '../../extension/src/ids';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('contributed commands are exactly the ones the code registers', () => {
  const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(contributed, Object.values(Command).sort());
  for (const c of manifest.contributes.commands) assert.equal(c.category, 'Portway', `${c.command} has the Portway category`);
});

test('menus, views and welcome content only name declared commands and views', () => {
  const commands = new Set<string>(Object.values(Command));
  for (const [menu, entries] of Object.entries(manifest.contributes.menus as Record<string, { command: string }[]>)) {
    for (const entry of entries) assert.ok(commands.has(entry.command), `${menu} names unknown ${entry.command}`);
  }
  const views = manifest.contributes.views[View.Container].map((v: { id: string }) => v.id).sort();
  assert.deepEqual(views, [View.Connections, View.Routes].sort());
  assert.equal(manifest.contributes.viewsContainers.activitybar[0].id, View.Container);
  assert.ok(fs.existsSync(path.join(ROOT, manifest.contributes.viewsContainers.activitybar[0].icon)), 'the view container icon exists');
  for (const w of manifest.contributes.viewsWelcome) {
    assert.ok(views.includes(w.view), `welcome for unknown view ${w.view}`);
    for (const m of (w.contents as string).matchAll(/\(command:([^)]+)\)/g)) assert.ok(commands.has(m[1]), `welcome names unknown ${m[1]}`);
  }
  for (const view of views) assert.ok(manifest.contributes.viewsWelcome.some((w: { view: string }) => w.view === view), `${view} has welcome content`);
});

test('settings: one per Setting id in ids.ts, and no token setting', () => {
  const props = Object.keys(manifest.contributes.configuration.properties).sort();
  assert.deepEqual(props, Object.entries(Setting).filter(([k]) => k !== 'Section').map(([, v]) => `${Setting.Section}.${v}`).sort());
  assert.ok(!props.some((p) => /token|key|secret/i.test(p)), 'the token lives in SecretStorage, never in settings');
});

test('runs where the workspace is (remote, container) and on VS Code 1.100', () => {
  assert.deepEqual(manifest.extensionKind, ['workspace']);
  assert.equal(manifest.engines.vscode, '^1.100.0');
  assert.equal(manifest.main, './dist/extension.js');
});

test('the package holds only the bundles, media, README, LICENSE and package.json (vsce ls)', { timeout: 60_000 }, () => {
  for (const bundle of ['dist/extension.js', 'dist/portway.js', 'dist/inspector-view.js']) {
    assert.ok(fs.existsSync(path.join(ROOT, bundle)), `${bundle} is built (run node esbuild.js)`);
  }
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const listed = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
  const allowed = (f: string) => ['dist/extension.js', 'dist/portway.js', 'dist/inspector-view.js', 'README.md', 'LICENSE', 'package.json'].includes(f) || f.startsWith('media/');
  assert.deepEqual(listed.filter((f) => !allowed(f)), [], 'nothing else is packaged');
  for (const required of ['dist/extension.js', 'dist/portway.js', 'package.json', 'README.md', 'media/portway.svg']) {
    assert.ok(listed.includes(required), `${required} is packaged`);
  }
  assert.ok(!listed.some((f) => f.startsWith('relay/')), 'the relay is not in the extension');
});
