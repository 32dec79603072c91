/**
 * The content of a webview panel in the workbench: VS Code hosts each webview in an iframe whose
 * document holds another iframe (#active-frame) with the extension's page.
 */
import type { FrameLocator, Page } from 'playwright-core';

/** The page inside the visible webview opened last (hidden panels keep their iframes). */
export function webviewFrame(page: Page): FrameLocator {
  return page.locator('iframe.webview.ready').filter({ visible: true }).last().contentFrame().frameLocator('#active-frame');
}
