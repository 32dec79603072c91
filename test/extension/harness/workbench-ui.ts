/**
 * Driving the VS Code workbench as a user would: Command Palette, quick-input answers,
 * notifications, status-bar items, tree rows and context menus. Shared by the end-to-end tests.
 */
import type { Locator, Page } from 'playwright-core';

export const UI_TIMEOUT = 30_000;

export const quickInput = (page: Page): Locator => page.locator('.quick-input-widget');
export const quickInputBox = (page: Page): Locator => page.locator('.quick-input-widget .quick-input-box input');

/** Runs a command from the Command Palette (F1) by its full title, e.g. `Portway: Share Port…`. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  await quickInputBox(page).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await quickInputBox(page).fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');
}

/**
 * Shows the Portway Routes view through its focus command: clicking the activity-bar icon would
 * close the side bar when a reload restored it open.
 */
export async function showRoutesView(page: Page): Promise<void> {
  await runCommand(page, 'Portway: Focus on Routes View');
  await page.locator('.pane-header', { hasText: 'Routes' }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
}

/** `text` escaped for a RegExp source (hostnames in row patterns). */
export function literally(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits for the quick-input title containing `title` (a picker or an input box). */
export async function quickInputTitled(page: Page, title: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
}

/** Waits for a quick input whose title contains `title`, types `text` and accepts it. */
export async function answerInput(page: Page, title: string, text: string): Promise<void> {
  await quickInputTitled(page, title);
  await quickInputBox(page).fill(text);
  await page.keyboard.press('Enter');
}

/** A row of the open quick pick (e.g. a port in the Share Port picker). */
export function quickPickRow(page: Page, text: string | RegExp): Locator {
  return page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
}

/**
 * The Share Port picker's row for a port found listening: its label is the port number. Not the
 * "Share port N (typed)" row shown while the listing is still loading, nor a row whose pid or
 * longer port number merely contains the digits.
 */
export function listedPortRow(page: Page, port: number): Locator {
  return quickPickRow(page, new RegExp(`^\\s*${port}(?!\\d)`));
}

export function notification(page: Page, text: string | RegExp): Locator {
  return page.locator('.notification-toast', { hasText: text }).first();
}

export function statusItem(page: Page, text: string | RegExp): Locator {
  return page.locator('.statusbar-item', { hasText: text }).first();
}

export function treeRow(page: Page, viewTitle: string, text: string | RegExp): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: viewTitle }) }).locator('.monaco-list-row', { hasText: text }).first();
}

/** Picks a context-menu entry (hover focuses it, Enter runs it, as a keyboard user would). */
export async function pickMenuItem(page: Page, label: string): Promise<void> {
  const item = page.locator('.monaco-menu .action-item', { hasText: label }).first();
  await item.waitFor({ timeout: UI_TIMEOUT });
  await item.hover();
  await page.keyboard.press('Enter');
}

/**
 * Polls `probe` (every 100 ms, bounded) until it returns something other than undefined/false.
 * Only for conditions outside the page that send no event the test can wait on: a process showing
 * up in the process table, a relay's answer changing once the agent has pushed new rules. Anything
 * in the workbench's DOM is waited on with a locator instead.
 */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = UI_TIMEOUT): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Share Port from the Command Palette as a new user: no relay is configured yet, so it asks for
 * the relay URL and token first, then offers the listening ports; picks `port` (typed into the
 * filter, then clicked) with the default subdomain. Returns the announced public URL's hostname
 * once the status bar shows it.
 */
export async function sharePortAsNewUser(
  page: Page,
  options: { relayUrl: string; token: string; port: number; screenshot?: (name: string) => Promise<unknown> },
): Promise<{ url: string; hostname: string; portRowText: string }> {
  await runCommand(page, 'Portway: Share Port…');
  await answerInput(page, 'Relay URL', options.relayUrl);
  await answerInput(page, 'Relay token', options.token);
  await notification(page, /connected to .* hostname is/).waitFor({ timeout: UI_TIMEOUT });

  // The port picker lists the origin's port. The filter is typed first: the list is virtualised,
  // so on a machine with many listening ports the origin's row exists only once the filter has
  // narrowed the list down to it.
  await quickInputTitled(page, 'Share Port');
  await quickInputBox(page).fill(String(options.port));
  const portRow = listedPortRow(page, options.port);
  await portRow.waitFor({ timeout: UI_TIMEOUT });
  const portRowText = (await portRow.textContent()) ?? '';
  await options.screenshot?.('port-picker');
  await portRow.click();
  await answerInput(page, 'Subdomain', '');

  // The URL is announced and shown in the status bar.
  const shared = notification(page, /sharing port \d+ at http:\/\//);
  await shared.waitFor({ timeout: UI_TIMEOUT });
  const url = ((await shared.textContent()) ?? '').match(/http:\/\/[^\s/]+\//)?.[0];
  if (!url) throw new Error(`the notification names no URL: ${await shared.textContent()}`);
  const hostname = new URL(url).hostname;
  await statusItem(page, hostname).waitFor({ timeout: UI_TIMEOUT });
  return { url, hostname, portRowText };
}
