// `git http-backend` behind a node HTTP server on 127.0.0.1, for tests that need what git daemon
// cannot do: token authentication (the header git sends through http.extraheader) and faults (a
// connection that dies in the middle of a fetch).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';

/**
 * @param {{ root: string, token?: string, link?: { bytesPerSecond: number, latencyMs: number } }} options
 * Returns { url, requests, faults, stop }. `faults.breakUploadPackAfter = N` cuts the next
 * upload-pack responses after N body bytes; `faults.dropFetchEnd = true` sends all of a
 * protocol v2 fetch's response but its last 4 bytes (its closing flush), then drops the
 * connection; `faults.failReceivePack = true` answers every push
 * with a 500 (a destination that breaks mid-run); `requests` records method, path and auth result.
 */
export function startGitHttpServer({ root, token, link }) {
  // A simulated network link shared by all requests: bandwidth both ways, latency per request.
  let linkFreeAt = 0;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const transmit = async (bytes) => {
    if (!link) return;
    const now = Date.now();
    linkFreeAt = Math.max(linkFreeAt, now) + (bytes * 1000) / link.bytesPerSecond;
    if (linkFreeAt - now > 1) await sleep(linkFreeAt - now);
  };
  const expected = token
    ? `basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`
    : null;
  const requests = [];
  const faults = { breakUploadPackAfter: null, failReceivePack: false, dropFetchEnd: false };
  // Bytes on the wire, both ways, for benchmarks.
  const stats = { bytesIn: 0, bytesOut: 0 };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const auth = req.headers.authorization ?? '';
    const authorised = !expected || auth.toLowerCase() === expected.toLowerCase();
    requests.push({
      method: req.method,
      path: url.pathname,
      service: url.searchParams.get('service'),
      authorised,
      // Whether the client sent credentials at all (to see where a token went).
      sentAuth: !!req.headers.authorization,
    });
    if (!authorised) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end('unauthorised\n');
      return;
    }
    if (
      faults.failReceivePack &&
      req.method === 'POST' &&
      url.pathname.endsWith('/git-receive-pack')
    ) {
      res.writeHead(500).end('internal error\n');
      return;
    }
    req.pause();
    if (link) await sleep(link.latencyMs);
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method,
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: req.headers['git-protocol'] ?? '',
        REMOTE_USER: 'mirror',
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    // Writes go through one promise chain per direction, so throttling never reorders or drops
    // a chunk, and the end comes after the last one.
    let upload = Promise.resolve();
    // Whether the request is a v2 fetch (its body says so; the response comes after it).
    let isFetch = false;
    req.on('data', (chunk) => {
      stats.bytesIn += chunk.length;
      if (chunk.includes('command=fetch')) isFetch = true;
      req.pause();
      upload = upload.then(async () => {
        await transmit(chunk.length);
        cgi.stdin.write(chunk);
        req.resume();
      });
    });
    req.on('end', () => {
      upload = upload.then(() => cgi.stdin.end());
    });
    // A client that gives up mid-body: the CGI sees its input end there, as behind a real server.
    req.on('close', () => {
      if (!req.complete) upload = upload.then(() => cgi.stdin.end());
    });
    req.resume();
    cgi.stdin.on('error', () => {});
    const breakAfter = url.pathname.endsWith('/git-upload-pack')
      ? faults.breakUploadPackAfter
      : null;
    const dropFault = url.pathname.endsWith('/git-upload-pack') && faults.dropFetchEnd;
    let tail = Buffer.alloc(0);
    let head = Buffer.alloc(0);
    let headersDone = false;
    let sent = 0;
    let download = Promise.resolve();
    cgi.stdout.on('data', (chunk) => {
      if (!headersDone) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
        if (end < 0) return;
        const sep = head[end] === 13 ? 4 : 2;
        const headers = {};
        let status = 200;
        for (const line of head.subarray(0, end).toString('utf8').split(/\r?\n/)) {
          const [name, ...rest] = line.split(':');
          const value = rest.join(':').trim();
          if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
          else headers[name] = value;
        }
        res.writeHead(status, headers);
        headersDone = true;
        chunk = head.subarray(end + sep);
      }
      if (breakAfter !== null && sent + chunk.length > breakAfter) {
        res.write(chunk.subarray(0, Math.max(0, breakAfter - sent)));
        req.socket.destroy();
        cgi.kill('SIGKILL');
        return;
      }
      if (dropFault && isFetch) {
        // The last 4 bytes seen so far wait: at the end they are the ones never sent.
        const joined = Buffer.concat([tail, chunk]);
        tail = joined.subarray(Math.max(0, joined.length - 4));
        chunk = joined.subarray(0, joined.length - tail.length);
      }
      sent += chunk.length;
      stats.bytesOut += chunk.length;
      if (!link) {
        res.write(chunk);
        return;
      }
      cgi.stdout.pause();
      download = download.then(async () => {
        await transmit(chunk.length);
        res.write(chunk);
        cgi.stdout.resume();
      });
    });
    cgi.stdout.on('end', () => {
      download = download.then(() => {
        if (dropFault && isFetch) req.socket.destroy();
        else if (!res.destroyed) res.end();
      });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        faults,
        stats,
        stop: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
