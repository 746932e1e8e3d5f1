import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addCommits, git, initBare, refsOf } from '../scripts/lib/git-fixtures.mjs';
import { startGitHttpServer, type GitHttpServer } from '../scripts/lib/git-http-server.mjs';
import { mirrorAll, type MirrorOptions } from '../src/mirror/mirror.js';
import { invalidRefName } from '../src/mirror/refs.js';
import { parseMirrorPairs, parseRefFilter } from '../src/mirror/spec.js';
import { tempDir } from './helpers/fixtures.js';
import { runBundle } from './helpers/run-action.js';

// What stands between the mirror and github.com and opendev: a destination that cuts off a push
// whose body pauses, a redirect that would carry the token away, a server that trickles or never
// ends, text from a server that would be a workflow command, a push that landed though it failed.

const TOKEN = 'ghs_mirrorSafetyToken0123456789';
let root: string;
/** The destination (token required) and a source (no auth), both git's http-backend. */
let github: GitHttpServer;
let opendev: GitHttpServer;
const servers: Server[] = [];

beforeAll(async () => {
  root = tempDir('osa-mirror-safety-');
  github = await startGitHttpServer({ root, token: TOKEN });
  opendev = await startGitHttpServer({ root });
});
afterAll(async () => {
  await github?.stop();
  await opendev?.stop();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A server on 127.0.0.1 that is closed when the tests end. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Forwards a request to `target` (same path), streaming both ways; `onBody` sees each chunk. */
function forward(
  target: string,
  req: IncomingMessage,
  res: ServerResponse,
  hooks: { onResponseEnd?: () => boolean } = {},
) {
  const upstream = httpRequest(
    `${target}${req.url}`,
    { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
    (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        // The hook may drop the answer: the push landed, its report never comes back.
        if (hooks.onResponseEnd?.()) {
          res.socket?.destroy();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.end(Buffer.concat(chunks));
      });
    },
  );
  upstream.on('error', () => res.socket?.destroy());
  return upstream;
}

let counter = 0;
function repo(commits = 20) {
  const name = `safe${++counter}`;
  const upstream = initBare(join(root, 'opendev', `${name}.git`));
  addCommits(upstream, 'master', commits);
  addCommits(upstream, 'stable/2025.1', 2, { from: 'refs/heads/master', tag: '31.0.0' });
  const destination = initBare(join(root, 'github', `${name}.git`));
  return { name, upstream, destination };
}

const options = (pairs: string, extra: Partial<MirrorOptions> = {}): MirrorOptions => ({
  pairs: parseMirrorPairs(pairs),
  filter: parseRefFilter([]),
  token: TOKEN,
  concurrency: 2,
  maxDestructiveFraction: 0.1,
  allowDestructive: false,
  workDir: tempDir('osa-mirror-work-'),
  ...extra,
});

describe('a destination that answers 408 to a push whose body pauses (as github.com does)', () => {
  /** In front of the destination: a receive-pack body that stops for over `pauseMs` gets 408. */
  async function pickyDestination(pauseMs: number) {
    const cutOff: string[] = [];
    const url = await serve((req, res) => {
      const upstream = forward(github.url, req, res);
      if (!req.url?.endsWith('/git-receive-pack')) {
        req.pipe(upstream);
        return;
      }
      let last = Date.now();
      const check = setInterval(() => {
        if (Date.now() - last <= pauseMs) return;
        clearInterval(check);
        cutOff.push(req.url!);
        upstream.destroy();
        res.writeHead(408).end('Request Timeout');
      }, 50);
      req.on('data', (chunk: Buffer) => {
        last = Date.now();
        upstream.write(chunk);
      });
      req.on('end', () => {
        clearInterval(check);
        upstream.end();
      });
    });
    return { url, cutOff };
  }

  it('gets every change through in-process, with one fetch from a slow source and no pause', async () => {
    const slowSource = await startGitHttpServer({
      root,
      link: { bytesPerSecond: 50_000_000, latencyMs: 1500 },
    });
    try {
      const destination = await pickyDestination(1000);
      const r = repo(50);
      const pairs = `${slowSource.url}/opendev/${r.name}.git -> ${destination.url}/github/${r.name}.git`;
      // A first mirror (spooled, then pushed), then a change (fetched whole, then pushed).
      const [first] = await mirrorAll(options(pairs));
      expect([first!.status, first!.path.how]).toEqual(['mirrored', 'in-process']);
      addCommits(r.upstream, 'master', 3);
      git(r.upstream, ['tag', '32.0.0', 'refs/heads/master']);
      const fetches = () =>
        slowSource.requests.filter((q) => q.method === 'POST' && q.path.includes(r.name)).length;
      const before = fetches();
      const [change] = await mirrorAll(options(pairs));
      expect(change!.error).toBeUndefined();
      expect([change!.status, change!.path.how]).toEqual(['mirrored', 'in-process']);
      // The listing and the fetch: no second fetch from the source after a fallback.
      expect(fetches() - before).toBe(2);
      expect(destination.cutOff).toEqual([]);
      expect(refsOf(r.destination)).toBe(refsOf(r.upstream));
    } finally {
      await slowSource.stop();
    }
  }, 60000);
});

describe('the token goes to no origin but the destination', () => {
  it('a redirect from the destination is followed by neither path: nothing with credentials reaches the other port', async () => {
    // The other origin serves the same repositories without asking for credentials, so git,
    // once redirected there, carries on against it (curl drops the header on the redirect
    // itself; git then sends its configured header with every request to the new base URL).
    // It records what carried credentials.
    const carried: string[] = [];
    const elsewhere = await serve((req, res) => {
      if (req.headers.authorization) carried.push(`${req.method} ${req.url}`);
      req.pipe(forward(opendev.url, req, res));
    });
    const redirecting = await serve((req, res) => {
      res.writeHead(307, { Location: `${elsewhere}${req.url}` }).end();
    });
    for (const direct of [true, false]) {
      const r = repo();
      const [result] = await mirrorAll(
        options(`${opendev.url}/opendev/${r.name}.git -> ${redirecting}/github/${r.name}.git`, {
          direct,
        }),
      );
      expect(result!.status).toBe('failed');
      expect(refsOf(r.destination)).toBe('');
    }
    expect(carried).toEqual([]);
  }, 60000);
});

describe('a source that trickles or never ends', () => {
  /** A source answering every request 200, one byte every `everyMs`, never ending. */
  const trickling = (everyMs: number, bytes = 1) =>
    serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
      const timer = setInterval(() => res.write(Buffer.alloc(bytes, 0x30)), everyMs);
      res.on('close', () => clearInterval(timer));
    });

  it.each([true, false])(
    'in-process %s: the trickling repo ends within the low-speed window, reported; the others mirror',
    async (direct) => {
      const source = await trickling(400);
      const stuck = repo();
      const healthy = repo();
      const started = Date.now();
      const results = await mirrorAll(
        options(
          [
            `${source}/opendev/${stuck.name}.git -> ${github.url}/github/${stuck.name}.git`,
            `${opendev.url}/opendev/${healthy.name}.git -> ${github.url}/github/${healthy.name}.git`,
          ].join('\n'),
          { direct, lowSpeed: { bytes: 1000, seconds: 2 } },
        ),
      );
      expect(Date.now() - started).toBeLessThan(20000);
      expect(results.map((x) => x.status)).toEqual(['failed', 'mirrored']);
      expect(results[0]!.error).toMatch(/cannot list the source/);
      expect(refsOf(healthy.destination)).toBe(refsOf(healthy.upstream));
    },
    60000,
  );

  it('a repository that goes on past its time is stopped, and says so', async () => {
    // Fast enough for any low-speed limit, and endless.
    const endless = await trickling(5, 64 * 1024);
    const r = repo();
    const started = Date.now();
    const [result] = await mirrorAll(
      options(`${endless}/opendev/${r.name}.git -> ${github.url}/github/${r.name}.git`, {
        direct: false,
        repoTimeoutMs: 3000,
      }),
    );
    expect(Date.now() - started).toBeLessThan(15000);
    expect(result!.status).toBe('failed');
    expect(result!.error).toMatch(/^stopped after 3 s \(repo-timeout-minutes\)/);
  }, 60000);
});

describe('text from a server never becomes a workflow command', () => {
  it('an ERR line with commands in it is logged behind the repository name, line by line', async () => {
    const payload =
      'no such object\n::error::INJECTED\r::add-mask::INJECTED\u2028::stop-commands::INJECTED';
    const pkt = (text: string) =>
      Buffer.concat([
        Buffer.from((Buffer.byteLength(text) + 4).toString(16).padStart(4, '0')),
        Buffer.from(text),
      ]);
    // A source whose listing is a good protocol v2 one, and whose fetch answers with an ERR.
    const evil = await serve((req, res) => {
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.push(c));
      req.on('end', () => {
        const asked = Buffer.concat(body).toString('latin1');
        res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-result' });
        if (asked.includes('command=ls-refs'))
          res.end(
            Buffer.concat([pkt(`${'1'.repeat(40)} refs/heads/master\n`), Buffer.from('0000')]),
          );
        else res.end(Buffer.concat([pkt(`ERR ${payload}`), Buffer.from('0000')]));
      });
    });
    const r = repo();
    const event = join(tempDir(), 'event.json');
    writeFileSync(event, JSON.stringify({ repository: { fork: false } }));
    const run = await runBundle(
      'mirror',
      {
        repos: `${evil}/opendev/${r.name}.git -> ${github.url}/github/${r.name}.git`,
        token: TOKEN,
        cache: 'false',
      },
      { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: event },
    );
    expect(run.status).toBe(1);
    // The server's text is in the log, each of its lines behind the repository's name.
    // (once logged as it happened, once in the repository's result)
    expect(run.stdout.match(/\nsafe\d+-[0-9a-f]+: ::error::INJECTED\n/g)).toHaveLength(2);
    for (const out of run.stdout.split(/\r\n|[\r\n\u2028\u2029\u0085\v\f]/))
      expect(out.trim()).not.toMatch(/^::[a-z-]+::INJECTED/);
  }, 60000);
});

describe('a push that failed is reported as what landed', () => {
  it("git's path: the push landed, its report was lost; the tag is reported created (so it is built)", async () => {
    const r = repo();
    let drop = false;
    const lossy = await serve((req, res) => {
      const upstream = forward(github.url, req, res, {
        onResponseEnd: () => {
          if (!drop || !req.url?.endsWith('/git-receive-pack')) return false;
          drop = false;
          return true;
        },
      });
      req.pipe(upstream);
    });
    const pairs = `${opendev.url}/opendev/${r.name}.git -> ${lossy}/github/${r.name}.git`;
    expect((await mirrorAll(options(pairs, { direct: false })))[0]!.status).toBe('mirrored');
    git(r.upstream, ['tag', '32.0.0', 'refs/heads/master']);
    drop = true;
    const logs: string[] = [];
    const [result] = await mirrorAll(
      options(pairs, { direct: false, log: (_slug, m) => logs.push(m) }),
    );
    expect(drop).toBe(false);
    expect(result!.status).toBe('mirrored');
    expect(result!.created.map((c) => c.ref)).toEqual(['refs/tags/32.0.0']);
    expect(logs.join('\n')).toMatch(/the destination has refs\/tags\/32\.0\.0 all the same/);
    expect(refsOf(r.destination)).toBe(refsOf(r.upstream));
  }, 60000);
});

describe('ref names git refuses', () => {
  it.each([
    ['refs/heads/a..b', "it contains '..'"],
    ['refs/heads/a b', 'it contains a space'],
    ['refs/heads/.hidden', "a component starts with '.'"],
    ['refs/heads/x.lock', "ends with '.lock'"],
    ['refs/tags/v1@{0}', "it contains '@{'"],
    ['refs/heads/a/', 'not a full ref name'],
    ['refs/heads/end.', "it ends with '.'"],
  ])('%s is refused: %s', (ref, why) => {
    expect(invalidRefName(ref)).toContain(why);
  });
  it.each(['refs/heads/stable/2025.1', 'refs/tags/2024.2-eol', 'refs/heads/unmaintained/zed'])(
    '%s is a name',
    (ref) => expect(invalidRefName(ref)).toBeNull(),
  );
});
