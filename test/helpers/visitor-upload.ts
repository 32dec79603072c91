/** A visitor that uploads through the relay, for tests of what the relay holds meanwhile. */
import * as http from 'node:http';

/** A visitor's upload of `bytes`: resolves with the status, or 0 when the connection was closed on it. */
export function uploadThrough(port: number, host: string, bytes: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { host, 'content-length': bytes }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end(Buffer.alloc(bytes, 'u'));
  });
}
