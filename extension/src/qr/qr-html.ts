/**
 * The QR code page: the public URL drawn by the `qrcode` library as inline SVG (no image
 * requests), under a CSP that allows only this page's own nonce'd style. No `vscode` import.
 */
import * as QRCode from 'qrcode';

export function qrCsp(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'none'; script-src 'none'; form-action 'none'; base-uri 'none'`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The SVG of `url`'s QR code (error correction M: still reads from a screen photographed at an angle). */
export function qrSvg(url: string): Promise<string> {
  return QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#000000', light: '#ffffff' } });
}

export async function qrHtml(url: string, nonce: string): Promise<string> {
  const svg = await qrSvg(url);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${qrCsp(nonce)}">
<title>Portway: QR code</title>
<style nonce="${nonce}">
body { display: flex; flex-direction: column; align-items: center; gap: 12px; padding: 24px; color: var(--vscode-foreground); font-family: var(--vscode-font-family); }
.code { width: min(70vmin, 360px); background: #fff; padding: 8px; border-radius: 4px; }
.code svg { display: block; width: 100%; height: auto; }
.url { font-family: var(--vscode-editor-font-family); user-select: all; word-break: break-all; text-align: center; }
.hint { color: var(--vscode-descriptionForeground); }
</style></head>
<body>
<div class="code" role="img" aria-label="QR code of ${escapeHtml(url)}">${svg}</div>
<div class="url">${escapeHtml(url)}</div>
<div class="hint">Scan with a phone camera: the URL is public, so it opens from any network.</div>
</body></html>
`;
}
