/**
 * End to end in a real VS Code workbench (code-server + chromium), with a real relay and a local
 * origin on loopback: Share Port from the Command Palette (walking through the relay set-up),
 * the URL in the status bar, a fetch through the relay, the Routes and Connections views, a drop
 * rule added from the tree, and the agent killed and restarted. Screenshots go to test-artifacts/.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { request } from '../helpers/http-client';
import { startRelay, type RelayProcess } from '../helpers/processes';
import { openWorkbench, processesInGroup, ROOT, startCodeServer, type CodeServer, type Workbench } from '../extension/harness/code-server';

const AUTH_KEY = 'portway-e2e-key-'.padEnd(40, 'x');
const ORIGIN_TEXT = 'hello from the e2e origin';
const EXTENSION_PATH = process.env.PORTWAY_TEST_EXTENSION_PATH ?? ROOT;
const UI_TIMEOUT = 30_000;
/** Flip to true once agents push firewall rules to the relay (the protocol has no message for it yet). */
const RELAY_ENFORCES_AGENT_FIREWALL = true;

let relay: RelayProcess;
let origin: http.Server;
let originPort: number;
let codeServer: CodeServer;
let workbench: Workbench;

before(async () => {
  relay = await startRelay({ authKey: AUTH_KEY });
  origin = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<h1>${ORIGIN_TEXT}</h1>`);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as AddressInfo).port;
  codeServer = await startCodeServer();
  workbench = await openWorkbench(codeServer, { extensionPath: EXTENSION_PATH, artifactPrefix: 'vscode-e2e' });
});

after(async () => {
  if (workbench) {
    if (process.exitCode) await workbench.screenshot('failure').catch(() => undefined);
    await workbench.close();
  }
  await codeServer?.stop();
  await relay?.stop();
  origin?.close();
});

const quickInput = (page: Page) => page.locator('.quick-input-widget');
const quickInputBox = (page: Page) => page.locator('.quick-input-widget .quick-input-box input');

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  await quickInputBox(page).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await quickInputBox(page).fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');
}

/** Waits for a quick input whose title contains `title`, types `text` and accepts it. */
async function answerInput(page: Page, title: string, text: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await quickInputBox(page).fill(text);
  await page.keyboard.press('Enter');
}

function notification(page: Page, text: string | RegExp): Locator {
  return page.locator('.notification-toast', { hasText: text }).first();
}

function statusItem(page: Page, text: string | RegExp): Locator {
  return page.locator('.statusbar-item', { hasText: text }).first();
}

function treeRow(page: Page, viewTitle: string, text: string | RegExp): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: viewTitle }) }).locator('.monaco-list-row', { hasText: text }).first();
}

/** Picks a context-menu entry (hover focuses it, Enter runs it, as a keyboard user would). */
async function pickMenuItem(page: Page, label: string): Promise<void> {
  const item = page.locator('.monaco-menu .action-item', { hasText: label }).first();
  await item.waitFor({ timeout: UI_TIMEOUT });
  await item.hover();
  await page.keyboard.press('Enter');
}

function agentPids(): number[] {
  return processesInGroup(codeServer.pgid, 'portway.js');
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = UI_TIMEOUT): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('Share Port in a real VS Code: relay set-up, status bar URL, views, firewall, agent restart', { timeout: 240_000 }, async (t) => {
  const { page } = workbench;
  const started = Date.now();

  // The extension activates on start-up: its status-bar item appears and its agent runs.
  await statusItem(page, 'Portway').waitFor({ timeout: 90_000 });
  const firstAgent = await until('the agent process', () => agentPids()[0]);
  await workbench.screenshot('workbench');

  // Share Port from the Command Palette: no relay yet, so it walks through URL and token.
  await runCommand(page, 'Portway: Share Port…');
  await answerInput(page, 'Relay URL', relay.url);
  await answerInput(page, 'Relay token', AUTH_KEY);
  await notification(page, /connected to .* hostname is/).waitFor({ timeout: UI_TIMEOUT });

  // The port picker lists the origin's port, with the owning process.
  await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Share Port' }).waitFor({ timeout: UI_TIMEOUT });
  const originRow = page.locator('.quick-input-list .monaco-list-row', { hasText: String(originPort) }).first();
  await originRow.waitFor({ timeout: UI_TIMEOUT });
  assert.match((await originRow.textContent()) ?? '', /node/, 'the process name is shown');
  await quickInputBox(page).fill(String(originPort));
  await workbench.screenshot('port-picker');
  await originRow.click();
  await answerInput(page, 'Subdomain', '');

  // The URL is announced and shown in the status bar.
  const shared = notification(page, /sharing port \d+ at http:\/\//);
  await shared.waitFor({ timeout: UI_TIMEOUT });
  const url = ((await shared.textContent()) ?? '').match(/http:\/\/[^\s/]+\//)?.[0];
  assert.ok(url, 'the notification names the URL');
  const hostname = new URL(url).hostname;
  assert.match(hostname, /\.localhost$/);
  await statusItem(page, hostname).waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('shared');

  // The URL works through the relay and reaches the origin.
  const res = await request(relay.port, hostname);
  assert.equal(res.status, 200);
  assert.match(res.body.toString(), new RegExp(ORIGIN_TEXT));

  // The Portway view: the route with its destination, and the connection we just made.
  await page.locator('.activitybar .action-item a[aria-label^="Portway"]').click();
  await treeRow(page, 'Routes', hostname).waitFor({ timeout: UI_TIMEOUT });
  assert.match((await treeRow(page, 'Routes', hostname).textContent()) ?? '', new RegExp(`127\\.0\\.0\\.1:${originPort}`));
  await treeRow(page, 'Connections', `127.0.0.1 → ${hostname}`).waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('views');

  // A drop rule for 127.0.0.1, added from the route's context menu, shows under the route
  // and the relay refuses our fetch.
  await treeRow(page, 'Routes', hostname).click({ button: 'right' });
  await pickMenuItem(page, 'Add Drop Rule…');
  await answerInput(page, 'Drop a network', '127.0.0.1');
  await treeRow(page, 'Routes', 'drop 127.0.0.1').waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('drop-rule');
  // Enforcement is the relay's job; until agents send their rules to the relay (the security
  // issue), this check is reported as TODO instead of failing the scenario.
  const enforced = !!process.env.PORTWAY_E2E_EXPECT_FIREWALL || RELAY_ENFORCES_AGENT_FIREWALL;
  await t.test('the relay refuses the dropped address', { todo: enforced ? false : 'the relay does not receive firewall rules from agents yet' }, async () => {
    const refused = await until(
      'the relay to refuse 127.0.0.1',
      async () => {
        const r = await request(relay.port, hostname).catch(() => undefined);
        return r && r.status === 403 ? r : undefined;
      },
      enforced ? UI_TIMEOUT : 5_000,
    );
    assert.equal(refused.status, 403);
  });

  // Remove the rule with its inline action: traffic flows again.
  const ruleRow = treeRow(page, 'Routes', 'drop 127.0.0.1');
  await ruleRow.hover();
  await ruleRow.locator('.action-label[aria-label="Remove Rule"]').click();
  await treeRow(page, 'Routes', 'drop 127.0.0.1').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  await until('traffic to flow again', async () => ((await request(relay.port, hostname).catch(() => undefined))?.status === 200 ? true : undefined));

  // Kill the agent: the extension restarts it and the tunnel comes back with the same hostname.
  process.kill(firstAgent, 'SIGKILL');
  const secondAgent = await until('a restarted agent', () => agentPids().find((p) => p !== firstAgent));
  assert.notEqual(secondAgent, firstAgent);
  await statusItem(page, hostname).waitFor({ timeout: UI_TIMEOUT });
  await until('traffic after the restart', async () => ((await request(relay.port, hostname).catch(() => undefined))?.status === 200 ? true : undefined));
  await workbench.screenshot('after-agent-restart');

  // Stop Sharing from the status-bar menu.
  await statusItem(page, hostname).click();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Stop Sharing' }).click();
  await statusItem(page, /^\s*Portway\s*$/).waitFor({ timeout: UI_TIMEOUT });
  const offline = await request(relay.port, hostname);
  assert.equal(offline.status, 502, 'the relay says the tunnel is offline');
  await workbench.screenshot('stopped');

  fs.writeFileSync(`${ROOT}/test-artifacts/vscode-e2e-timing.txt`, `scenario took ${Date.now() - started} ms\n`);
});
