import { constants as fsConstants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AgentRequest, AgentResponse, HttpHandler } from './http-exchange';
import { contentTypeFor } from './webroot/mime';
import { parseRange } from './webroot/range';
import { sendStatus } from './webroot/reply';
import { encodeSegments, parseRequestPath } from './webroot/request-path';
import { hasHiddenSegment, resolveInside } from './webroot/resolve-file';
import { ifRangeAllowsRange, isNotModified, validatorsFor } from './webroot/validators';

export interface WebrootOptions {
  /**
   * Serve files and directories whose name starts with "." (default false: they
   * are 404, so a webroot that is also a git checkout does not publish .git or
   * .env). /.well-known is always served.
   */
  serveDotfiles?: boolean;
}

const ALLOW = 'GET, HEAD';
const INDEX_FILE = 'index.html';
/**
 * O_NOFOLLOW: the final component cannot be swapped for a symlink after realpath.
 * O_NONBLOCK: a file swapped for a FIFO cannot park a libuv thread in open(2)
 * (harmless for regular files). Both are absent on Windows.
 */
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/** A static file server for one directory, as a route handler. */
export function createWebrootHandler(root: string, options: WebrootOptions = {}): HttpHandler {
  const absoluteRoot = path.resolve(root);
  return (req, res) => {
    // Bodies are never read; draining lets the exchange finish for e.g. a POST.
    req.body.resume();
    serve(absoluteRoot, options, req, res).catch((err: Error) => {
      try {
        if (res.headersSent) res.destroy(err);
        else sendStatus(res, req.method === 'HEAD', 500);
      } catch {
        res.destroy(err); // the exchange is already gone; nothing left to tell the client
      }
    });
  };
}

async function serve(absoluteRoot: string, options: WebrootOptions, req: AgentRequest, res: AgentResponse): Promise<void> {
  const isHead = req.method === 'HEAD';
  if (req.method !== 'GET' && !isHead) return sendStatus(res, false, 405, ['Allow', ALLOW]);

  const target = parseRequestPath(req.url);
  if (target.kind === 'bad-request') return sendStatus(res, isHead, 400);
  if (target.kind === 'forbidden') return sendStatus(res, isHead, 403);
  const dotfilesHidden = !options.serveDotfiles;
  if (dotfilesHidden && hasHiddenSegment(target.segments)) return sendStatus(res, isHead, 404);

  // Resolved per request: the root itself may be a symlink that is re-pointed.
  const rootReal = await fsp.realpath(absoluteRoot).catch(() => undefined);
  if (rootReal === undefined) return sendStatus(res, isHead, 404);

  let found = await resolveInside(rootReal, path.join(rootReal, ...target.segments));
  if (found.kind === 'missing') return sendStatus(res, isHead, 404);
  if (found.kind === 'forbidden') return sendStatus(res, isHead, 403);

  const stats = await fsp.stat(found.realPath).catch(() => undefined);
  if (stats === undefined) return sendStatus(res, isHead, 404); // removed since realpath
  if (stats.isDirectory()) {
    if (!target.trailingSlash) {
      // Relative links in the index only work below "/dir/", so send the client there.
      return sendStatus(res, isHead, 301, ['Location', `${encodeSegments(target.segments)}/${target.query}`]);
    }
    found = await resolveInside(rootReal, path.join(found.realPath, INDEX_FILE));
    if (found.kind === 'missing') return sendStatus(res, isHead, 404); // no directory listings
    if (found.kind === 'forbidden') return sendStatus(res, isHead, 403);
  } else if (target.trailingSlash || !stats.isFile()) {
    // "/file.txt/" names a directory that is not there; FIFOs and devices are never opened.
    return sendStatus(res, isHead, 404);
  }

  // A symlink inside the root may still point at a hidden file inside it.
  const relative = path.relative(rootReal, found.realPath).split(path.sep);
  if (dotfilesHidden && hasHiddenSegment(relative)) return sendStatus(res, isHead, 404);

  const handle = await fsp.open(found.realPath, OPEN_FLAGS).catch(() => undefined);
  if (handle === undefined) return sendStatus(res, isHead, 404);
  await sendFile(req, res, handle, found.realPath);
}

/** Answers with the open file; owns the handle and closes it on every path. */
async function sendFile(req: AgentRequest, res: AgentResponse, handle: FileHandle, realPath: string): Promise<void> {
  let streaming = false;
  try {
    // Stat the open descriptor, so headers and bytes describe the same file.
    const stats = await handle.stat();
    const isHead = req.method === 'HEAD';
    if (!stats.isFile()) return sendStatus(res, isHead, 404); // swapped since the first stat

    const validators = validatorsFor(stats.size, stats.mtimeMs);
    const common = [
      'ETag', validators.etag,
      'Last-Modified', validators.lastModified,
      'Cache-Control', 'no-cache',
    ];
    if (isNotModified(req.headers, validators)) {
      res.writeHead(304, common);
      res.body.end();
      return;
    }

    const range = ifRangeAllowsRange(req.headers, validators)
      ? parseRange(req.headers['range'], stats.size)
      : ({ kind: 'full' } as const);
    if (range.kind === 'unsatisfiable') {
      return sendStatus(res, isHead, 416, ['Content-Range', `bytes */${stats.size}`, 'Accept-Ranges', 'bytes']);
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : stats.size - 1;
    const length = end - start + 1;
    const headers = [
      ...common,
      'Accept-Ranges', 'bytes',
      'Content-Type', contentTypeFor(realPath),
      'X-Content-Type-Options', 'nosniff',
      'Content-Length', String(length),
    ];
    if (range.kind === 'partial') headers.push('Content-Range', `bytes ${start}-${end}/${stats.size}`);
    res.writeHead(range.kind === 'partial' ? 206 : 200, headers);
    if (isHead || length === 0) {
      res.body.end();
      return;
    }

    const stream = handle.createReadStream({ start, end }); // autoClose: closes the handle
    streaming = true;
    await pipeline(stream, res.body, { end: false });
    // A file that shrank after fstat would leave the client waiting for the promised
    // Content-Length; cut the exchange instead of ending it short.
    if (stream.bytesRead !== length) res.destroy(new Error(`${realPath} changed size while being served`));
    else res.body.end();
  } finally {
    if (!streaming) await handle.close();
  }
}
