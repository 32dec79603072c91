/** A captured request as a curl command line (POSIX shell quoting). No `vscode` import. */
import type { CapturedRequest } from '../../../protocol/rpc';

/** Headers curl sets itself, or that the tunnel added on the way in. */
const LEFT_OUT = /^(host|content-length|connection|transfer-encoding|x-forwarded-(for|proto|host|port))$/i;

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `publicUrl`: the route's URL (scheme and host the visitor used), e.g. "https://app.example.com/". */
export function curlCommand(r: CapturedRequest, publicUrl?: string): string {
  const base = publicUrl ? publicUrl.replace(/\/$/, '') : `${r.proto}://${r.host}`;
  const parts = ['curl'];
  if (r.method !== 'GET' || r.requestBody.size > 0) parts.push('-X', r.method);
  parts.push(shellQuote(base + r.path));
  for (let i = 0; i + 1 < r.requestHeaders.length; i += 2) {
    if (!LEFT_OUT.test(r.requestHeaders[i])) parts.push('-H', shellQuote(`${r.requestHeaders[i]}: ${r.requestHeaders[i + 1]}`));
  }
  const body = r.requestBody;
  // Only a body shown whole and as text can be sent again from the command line.
  if (body.size > 0 && !body.truncated && !body.decodedFrom && (body.kind === 'text' || body.kind === 'json') && body.text !== undefined) {
    // A JSON body is shown pretty-printed: sent compact again, as it most likely came.
    parts.push('--data-binary', shellQuote(body.kind === 'json' ? compactJson(body.text) : body.text));
  } else if (body.size > 0) {
    parts.push('# body left out:', body.truncated ? 'cut at the preview size' : `${body.kind}, ${body.size} bytes`);
  }
  return parts.join(' ');
}

function compactJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}
