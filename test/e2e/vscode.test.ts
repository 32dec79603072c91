/**
 * End to end in a real VS Code workbench (code-server + chromium), with a real relay and a local
 * origin on loopback: Share Port from the Command Palette (walking through the relay set-up),
 * the URL in the status bar, a fetch through the relay, the Routes and Connections views, an
 * invalid port kept inline, a ::1-only server shared with a free subdomain and its route state
 * (online, nothing listening), a drop rule added from the tree, the agent killed and restarted,
 * and Stop Sharing surviving a reload. Between them, the request inspector: JSON,
 * an image, a 404, a 502 and a blocked visitor in the list and the Connections view, a detail
 * pane, a replay beside the original, its CSP refusing a remote load, and the QR code.
 * Screenshots go to test-artifacts/.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from '../helpers/http-client';
import { startRelay, type RelayProcess } from '../helpers/processes';
import { openWorkbench, processesInGroup, ROOT, startCodeServer, type CodeServer, type Workbench } from '../extension/harness/code-server';
import {
  answerInput,
  listedPortRow,
  literally,
  notification,
  pickMenuItem,
  quickInput,
  quickInputBox,
  quickInputTitled,
  quickPickRow,
  runCommand,
  sharePortAsNewUser,
  showRoutesView,
  statusItem,
  treeRow,
  UI_TIMEOUT,
  until,
} from '../extension/harness/workbench-ui';
import { webviewFrame } from '../extension/harness/webview-frame';
import { listenOnIpv6LoopbackOnly } from '../helpers/ipv6-loopback-only';

const AUTH_KEY = 'portway-e2e-key-'.padEnd(40, 'x');
const ORIGIN_TEXT = 'hello from the e2e origin';
/** A second origin bound to ::1 only, as many dev servers bind "localhost". */
const IPV6_ORIGIN_TEXT = 'hello from the ::1 origin';
const EXTENSION_PATH = process.env.PORTWAY_TEST_EXTENSION_PATH ?? ROOT;
/** Flip to true once agents push firewall rules to the relay (the protocol has no message for it yet). */
const RELAY_ENFORCES_AGENT_FIREWALL = true;

/** A 4×4 red PNG. */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000004000000040802000000269309290000001049444154789c63f8cfc000470cc47100ae930ff1d05f239e0000000049454e44ae426082',
  'hex',
);
/** Every path the origin was asked for, in order. */
const originPaths: string[] = [];

let relay: RelayProcess;
let origin: http.Server;
let originPort: number;
let ipv6Origin: http.Server;
let ipv6OriginPort: number;
let codeServer: CodeServer;
let workbench: Workbench;

before(async () => {
  relay = await startRelay({ authKey: AUTH_KEY });
  origin = http.createServer((req, res) => {
    originPaths.push(req.url ?? '');
    if (req.url === '/api/items') {
      res.setHeader('content-type', 'application/json');
      return void res.end(JSON.stringify({ items: [{ id: 1, name: 'first' }], served: originPaths.length }));
    }
    if (req.url === '/logo.png') {
      res.setHeader('content-type', 'image/png');
      return void res.end(PNG);
    }
    if (req.url === '/missing') {
      res.statusCode = 404;
      return void res.end('not here');
    }
    // The origin dies mid-request: the agent answers 502 itself.
    if (req.url === '/crash') return void req.socket.destroy();
    res.setHeader('content-type', 'text/html');
    res.end(`<h1>${ORIGIN_TEXT}</h1>`);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as AddressInfo).port;
  ipv6Origin = http.createServer((_req, res) => res.end(IPV6_ORIGIN_TEXT));
  ipv6OriginPort = await listenOnIpv6LoopbackOnly(ipv6Origin);
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
  ipv6Origin?.close();
});

/**
 * A request through the relay for the polling steps: bounded, so one that gets no answer shows up
 * in the log (and is retried) instead of holding the scenario until its timeout.
 */
async function probe(t: { diagnostic(message: string): void }, hostname: string) {
  return request(relay.port, hostname, { timeoutMs: 10_000 }).catch((err: Error) => {
    t.diagnostic(`probe failed: ${err.message}`);
    return undefined;
  });
}

/** A Routes row text: exactly this hostname (not a subdomain of it), then its description. */
function routeRow(hostname: string, description: string): RegExp {
  return new RegExp(`(?<![\\w.-])${literally(hostname)}\\s*${description}`);
}

function agentPids(): number[] {
  return processesInGroup(codeServer.pgid, 'portway.js');
}

test('Share Port in a real VS Code: relay set-up, status bar URL, views, firewall, agent restart', { timeout: 240_000 }, async (t) => {
  const { page } = workbench;
  const started = Date.now();

  // The extension activates on start-up: its status-bar item appears and its agent runs.
  await statusItem(page, 'Portway').waitFor({ timeout: 90_000 });
  await workbench.screenshot('workbench');

  // Share Port from the Command Palette: no relay yet, so it walks through URL and token; the
  // port picker lists the origin's port with the owning process; the URL lands in the status bar.
  const { hostname, portRowText } = await sharePortAsNewUser(page, {
    relayUrl: relay.url,
    token: AUTH_KEY,
    port: originPort,
    screenshot: (name) => workbench.screenshot(name),
  });
  assert.match(portRowText, /node/, 'the process name is shown');
  assert.match(hostname, /\.localhost$/);
  await workbench.screenshot('shared');

  // The URL works through the relay and reaches the origin.
  const res = await request(relay.port, hostname, { timeoutMs: 10_000 });
  assert.equal(res.status, 200);
  assert.match(res.body.toString(), new RegExp(ORIGIN_TEXT));

  // The Portway view: the route with its state and destination, and the connection we just made.
  await showRoutesView(page);
  await treeRow(page, 'Routes', routeRow(hostname, 'online')).waitFor({ timeout: UI_TIMEOUT });
  assert.match((await treeRow(page, 'Routes', hostname).textContent()) ?? '', new RegExp(`127\\.0\\.0\\.1:${originPort}`));
  // One row per request, method and path first (the inspector is on by default).
  await treeRow(page, 'Connections', 'GET /').waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('views');

  // An invalid port typed in the picker is an inline error; Enter keeps the picker open (no
  // "Serve This Folder" dialog). The next value's error row proves the Enter was handled first:
  // the extension host answers in order, and an accepted picker would be gone.
  await runCommand(page, 'Portway: Share Port…');
  await quickInputTitled(page, 'Share Port');
  await quickInputBox(page).fill('70000');
  await quickPickRow(page, '70000 is not a port').waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('invalid-port');
  await page.keyboard.press('Enter');
  await quickInputBox(page).fill('70001');
  await quickPickRow(page, '70001 is not a port').waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await page.getByText('Serve This Folder').count(), 0, 'no folder dialog');
  await page.keyboard.press('Escape');
  await quickInput(page).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

  // A server bound to ::1 only is listed with its address and shared from the picker; the
  // subdomain offered is a free one (the first route is not replaced) and visitors reach it.
  await runCommand(page, 'Portway: Share Port…');
  await quickInputTitled(page, 'Share Port');
  await quickInputBox(page).fill(String(ipv6OriginPort));
  const ipv6Row = listedPortRow(page, ipv6OriginPort);
  await ipv6Row.waitFor({ timeout: UI_TIMEOUT });
  assert.match((await ipv6Row.textContent()) ?? '', /::1/, 'the picker shows where it listens');
  await ipv6Row.click();
  await quickInputTitled(page, 'Subdomain');
  assert.notEqual(await quickInputBox(page).inputValue(), '', 'a free subdomain is offered');
  await page.keyboard.press('Enter');
  const ipv6Shared = notification(page, new RegExp(`sharing port ${ipv6OriginPort} at http://`));
  await ipv6Shared.waitFor({ timeout: UI_TIMEOUT });
  const ipv6Hostname = new URL(((await ipv6Shared.textContent()) ?? '').match(/http:\/\/[^\s/]+\//)![0]).hostname;
  assert.notEqual(ipv6Hostname, hostname);
  const ipv6Res = await request(relay.port, ipv6Hostname, { timeoutMs: 10_000 });
  assert.equal(ipv6Res.status, 200);
  assert.equal(ipv6Res.body.toString(), IPV6_ORIGIN_TEXT);
  assert.equal((await request(relay.port, hostname, { timeoutMs: 10_000 })).status, 200, 'the first route still works');
  await treeRow(page, 'Routes', routeRow(ipv6Hostname, `online → \\[::1\\]:${ipv6OriginPort}`)).waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('ipv6-origin-shared');

  // The ::1 server stops: its row says nothing listens there (the view watches the ports).
  ipv6Origin.close();
  ipv6Origin.closeAllConnections();
  await treeRow(page, 'Routes', routeRow(ipv6Hostname, `nothing listening on :${ipv6OriginPort}`)).waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('nothing-listening');

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
        const r = await probe(t, hostname);
        return r && r.status === 403 ? r : undefined;
      },
      enforced ? UI_TIMEOUT : 5_000,
    );
    assert.equal(refused.status, 403);
    // The refused visitor has a row of its own in the Connections view.
    await treeRow(page, 'Connections', 'Blocked 127.0.0.1').waitFor({ timeout: UI_TIMEOUT });
    await workbench.screenshot('blocked-visitor');
  });

  // Remove the rule with its inline action: traffic flows again.
  const ruleRow = treeRow(page, 'Routes', 'drop 127.0.0.1');
  await ruleRow.hover();
  await ruleRow.locator('.action-label[aria-label="Remove Rule"]').click();
  await treeRow(page, 'Routes', 'drop 127.0.0.1').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  await until('traffic to flow again', async () => ((await probe(t, hostname))?.status === 200 ? true : undefined));

  await inspectRequests(t, hostname);

  // Kill the agent: the extension restarts it and the tunnel comes back with the same hostname.
  // The tunnel served traffic, so its agent runs: the one process of the extension's agent.
  const [firstAgent] = agentPids();
  assert.ok(firstAgent, 'the agent process runs');
  const onlineBeforeKill = relay.lines.length;
  process.kill(firstAgent, 'SIGKILL');
  // The relay says when the restarted agent's session is up (its process exists by then).
  await relay.waitFor(new RegExp(`agent online: ${literally(hostname)} `), UI_TIMEOUT, onlineBeforeKill);
  const secondAgent = agentPids().find((p) => p !== firstAgent);
  assert.ok(secondAgent, 'a restarted agent process');
  await statusItem(page, hostname).waitFor({ timeout: UI_TIMEOUT });
  await until('traffic after the restart', async () => ((await probe(t, hostname))?.status === 200 ? true : undefined));
  await workbench.screenshot('after-agent-restart');
  // The Connections view keeps what the agent saw before it was killed.
  await treeRow(page, 'Connections', 'GET /api/items').waitFor({ timeout: UI_TIMEOUT });

  // Stop Sharing from the status-bar menu.
  await statusItem(page, hostname).click();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Stop Sharing' }).click();
  await statusItem(page, /^\s*Portway\s*$/).waitFor({ timeout: UI_TIMEOUT });
  const offline = await request(relay.port, hostname, { timeoutMs: 10_000 });
  assert.equal(offline.status, 502, 'the relay says the tunnel is offline');
  await workbench.screenshot('stopped');

  // Stop Sharing is remembered: after a window reload (autoStart on), a new agent starts, the
  // Routes view shows the route as stopped, and the relay still answers 502.
  const beforeReload = agentPids();
  await page.reload();
  // With its route stopped this agent opens no session, so nothing announces it: the process table is read.
  await until('the agent of the reloaded window', () => agentPids().find((p) => !beforeReload.includes(p)));
  await showRoutesView(page);
  await treeRow(page, 'Routes', routeRow(hostname, 'stopped')).waitFor({ timeout: 90_000 });
  assert.equal((await request(relay.port, hostname, { timeoutMs: 10_000 })).status, 502, 'still not shared after the reload');
  await statusItem(page, /^\s*Portway\s*$/).waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('stopped-after-reload');

  fs.writeFileSync(`${ROOT}/test-artifacts/vscode-e2e-timing.txt`, `scenario took ${Date.now() - started} ms\n`);
});

/**
 * The request inspector with the tunnel shared: requests of each kind through the relay, then the
 * inspector panel (list, detail, replay), its CSP, the Connections rows and the QR code.
 */
async function inspectRequests(t: { diagnostic(message: string): void }, hostname: string): Promise<void> {
  const { page } = workbench;
  const through = (path: string) => request(relay.port, hostname, { path, timeoutMs: 10_000 });
  assert.equal((await through('/api/items')).status, 200);
  assert.equal((await through('/logo.png')).status, 200);
  assert.equal((await through('/missing')).status, 404);
  assert.equal((await through('/crash')).status, 502, 'the agent answers 502 for an origin that hung up');

  // The Connections view: readable rows, the 502 said as such.
  await treeRow(page, 'Connections', 'GET /api/items').waitFor({ timeout: UI_TIMEOUT });
  const crashRow = treeRow(page, 'Connections', 'GET /crash');
  await crashRow.waitFor({ timeout: UI_TIMEOUT });
  assert.match((await crashRow.textContent()) ?? '', /502/);
  await workbench.screenshot('connections-requests');

  await runCommand(page, 'Portway: Inspect Requests');
  const view = webviewFrame(page);
  const row = (text: string) => view.locator('#rows tr', { hasText: text }).first();
  for (const path of ['/api/items', '/logo.png', '/missing', '/crash']) await row(path).waitFor({ timeout: UI_TIMEOUT });
  assert.match((await row('/missing').textContent()) ?? '', /404/);
  assert.match((await row('/crash').locator('.status-5xx').textContent()) ?? '', /502/);
  await workbench.screenshot('inspector-list');

  // Filter by status: only the 4xx row stays.
  await view.locator('#status').selectOption('4');
  // The filter leaves one row: wait for the second to go (playwright watches the DOM), then count.
  await view.locator('#rows tr').nth(1).waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  assert.equal(await view.locator('#rows tr').count(), 1);
  await view.locator('#status').selectOption('');

  // The JSON body pretty-printed; the image shown.
  await row('/api/items').click();
  await view.locator('#detail pre.body.json', { hasText: '"name": "first"' }).waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('inspector-json');
  await row('/logo.png').click();
  await view.locator('#detail img.body-image').waitFor({ timeout: UI_TIMEOUT });
  await workbench.screenshot('inspector-image');

  // Replay: the origin is asked again and the new response is shown beside the original.
  await row('/api/items').click();
  await view.locator('#detail pre.body.json').first().waitFor({ timeout: UI_TIMEOUT });
  const asked = originPaths.filter((p) => p === '/api/items').length;
  await view.locator('#detail button', { hasText: /^Replay$/ }).click();
  await view.locator('#detail h2', { hasText: /^Replay #\d+/ }).waitFor({ timeout: UI_TIMEOUT });
  assert.equal(originPaths.filter((p) => p === '/api/items').length, asked + 1, 'the replay reached the origin');
  assert.equal(await view.locator('#detail .columns.side-by-side .exchange').count(), 2);
  await workbench.screenshot('inspector-replay');

  // The CSP: nothing remote. A load the page tries is refused (and never reaches the origin).
  const csp = (await view.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')) ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'none'/);
  assert.match(csp, /script-src 'nonce-[^']+'(;|$)/, 'only the page\'s own nonce\'d script runs');
  const before = originPaths.length;
  const violated = await view.locator('body').evaluate(
    (body, url) =>
      new Promise<string>((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
        const img = document.createElement('img');
        img.src = url;
        body.append(img);
      }),
    `http://127.0.0.1:${originPort}/remote-probe.png`,
  );
  assert.match(violated, /img-src/);
  assert.equal(originPaths.slice(before).includes('/remote-probe.png'), false, 'the remote load never happened');
  t.diagnostic(`inspector CSP: ${csp}`);

  // The QR code of the public URL, from the status-bar menu.
  await statusItem(page, hostname).click();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show QR Code' }).click();
  const qr = webviewFrame(page);
  await qr.locator('.code svg').waitFor({ timeout: UI_TIMEOUT });
  assert.match((await qr.locator('.url').textContent()) ?? '', new RegExp(hostname.replace(/\./g, '\\.')));
  await workbench.screenshot('qr-code');
  await page.keyboard.press('Control+W');
}
