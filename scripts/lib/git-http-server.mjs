// `git http-backend` behind a node HTTP server on 127.0.0.1, for tests that need what git daemon
// cannot do: token authentication (the header git sends through http.extraheader) and faults (a
// connection that dies in the middle of a fetch).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

/**
 * @param {{ root: string, token?: string, link?: { bytesPerSecond: number, latencyMs: number } }} options
 * Returns { url, requests, faults, stop }. `faults.breakUploadPackAfter = N` cuts the next
 * upload-pack responses after N body bytes; `faults.dropFetchEnd = true` sends all of a
 * protocol v2 fetch's response but its last 4 bytes (its closing flush), then drops the
 * connection; `faults.failReceivePack = true` answers every push
 * with a 500 (a destination that breaks mid-run); `faults.resetRequests = N` resets the
 * connection of the next N requests before any answer (TCP RST); `requests` records method, path and auth result.
 *
 * `replayListings` (benchmarks only) stands in for servers whose CPU is not this machine's, as
 * github.com's and opendev's are not a runner's: a listing (a GET of info/refs, a protocol v2
 * `ls-refs`) is answered with git's own answer to the same request, recorded earlier, as long as
 * the repository's refs, HEAD and config are byte for byte what they were then; anything else
 * (fetches, pushes, a changed repository) runs `git http-backend` live. `stats.replayed` counts
 * the answers replayed.
 */
export function startGitHttpServer({ root, token, link, replayListings = false }) {
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
  const faults = {
    breakUploadPackAfter: null,
    failReceivePack: false,
    dropFetchEnd: false,
    resetRequests: 0,
  };
  // Bytes on the wire, both ways, for benchmarks.
  // `running`: git processes not yet ended (and reaped).
  const stats = { bytesIn: 0, bytesOut: 0, replayed: 0, running: 0 };
  /** Recorded listings: request and repository state -> git's answer (status, headers, body). */
  const recorded = new Map();
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
    if (faults.resetRequests > 0) {
      // A kept-alive connection that the server closed as the client reused it.
      faults.resetRequests--;
      req.socket.resetAndDestroy();
      return;
    }
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
    // A listing's request is read whole first (a few hundred bytes), to know what it is. While a
    // fault is set, everything runs live.
    const listing =
      replayListings &&
      !Object.values(faults).some((fault) => fault !== null && fault !== false && fault !== 0) &&
      ((req.method === 'GET' && url.pathname.endsWith('/info/refs')) ||
        (req.method === 'POST' && url.pathname.endsWith('/git-upload-pack')));
    let key = null;
    let body = null;
    if (listing) {
      body = await readAll(req);
      // A client that gave up mid-body gets nothing, as from git.
      if (!body) return;
      stats.bytesIn += body.length;
      if (req.method === 'GET' || body.includes('command=ls-refs')) {
        key = listingKey(root, url, req.headers, body);
        const answer = key && recorded.get(key);
        if (answer) {
          stats.replayed += 1;
          stats.bytesOut += answer.body.length;
          await transmit(body.length + answer.body.length);
          res.writeHead(answer.status, answer.headers).end(answer.body);
          return;
        }
      }
    }
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
    stats.running += 1;
    cgi.on('exit', () => (stats.running -= 1));
    // Writes go through one promise chain per direction, so throttling never reorders or drops
    // a chunk, and the end comes after the last one.
    let upload = Promise.resolve();
    // Whether the request is a v2 fetch (its body says so; the response comes after it).
    let isFetch = false;
    // Each chunk of the request's body goes on to git through the link, in order; then its end.
    const forward = (chunk) => {
      if (chunk.includes('command=fetch')) isFetch = true;
      upload = upload.then(async () => {
        await transmit(chunk.length);
        cgi.stdin.write(chunk);
      });
    };
    const finish = () => {
      upload = upload.then(() => cgi.stdin.end());
    };
    if (body) {
      forward(body);
      finish();
    } else {
      req.on('data', (chunk) => {
        stats.bytesIn += chunk.length;
        req.pause();
        forward(chunk);
        upload = upload.then(() => req.resume());
      });
      req.on('end', finish);
      // A client that gives up mid-body: the CGI sees its input end there, as behind a real server.
      req.on('close', () => {
        if (!req.complete) finish();
      });
      req.resume();
    }
    // What a listing answered, kept to replay: only a whole 200 from a git that succeeded, and only
    // if the repository was the same when git had answered as before it began (a push to it in
    // between would file git's newer answer under the older state).
    const answer = key ? { status: 200, headers: {}, chunks: [] } : null;
    if (answer) {
      let code = null;
      let ended = false;
      const keep = () => {
        if (
          code === 0 &&
          ended &&
          answer.status === 200 &&
          listingKey(root, url, req.headers, body) === key
        )
          recorded.set(key, { ...answer, body: Buffer.concat(answer.chunks) });
      };
      cgi.on('exit', (c) => ((code = c), keep()));
      cgi.stdout.on('end', () => ((ended = true), keep()));
    }
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
        if (answer) Object.assign(answer, { status, headers });
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
      answer?.chunks.push(chunk);
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

/** A request's whole body; null for a client that gave up before its end. */
function readAll(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
    req.resume();
  });
}

/**
 * The configuration git reads besides the repository's own: the system's only, since the CGI runs
 * without HOME (so with no global configuration).
 */
const SYSTEM_CONFIG = '/etc/gitconfig';

/**
 * What a listing's answer depends on: the request (path, query, body, and the headers git
 * http-backend passes on) and the state of the repository it names (its refs, loose, packed or in
 * a reftable, HEAD, config, shallow file) and of git's system configuration. Null, so the
 * request runs live, when the path names no repository, when the repository borrows from another
 * (alternates: their refs are advertised too), or when a file changes while it is being read.
 */
function listingKey(root, url, headers, body) {
  const match = /^(.*?\.git)\//.exec(decodeURIComponent(url.pathname));
  if (!match) return null;
  const repo = join(root, match[1]);
  if (existsSync(join(repo, 'objects/info/alternates'))) return null;
  const hash = createHash('sha256');
  hash.update(`${url.pathname}?${url.search}\0`);
  for (const header of ['git-protocol', 'content-type', 'content-encoding'])
    hash.update(`${header}: ${headers[header] ?? ''}\0`);
  hash.update(body);
  const file = (path) =>
    hash.update(`\0${path}\0`).update(existsSync(path) ? readFileSync(path) : 'absent');
  const walk = (dir) => {
    if (!existsSync(dir)) return hash.update(`\0${dir}\0absent`);
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else file(path);
    }
  };
  try {
    for (const name of ['HEAD', 'config', 'packed-refs', 'shallow']) file(join(repo, name));
    file(SYSTEM_CONFIG);
    walk(join(repo, 'refs'));
    walk(join(repo, 'reftable'));
  } catch {
    // A loose ref or lock that went away between listing and reading: the repository is moving.
    return null;
  }
  return hash.digest('hex');
}
