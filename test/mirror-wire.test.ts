// The mirror's in-process git: the pack reader against packs git itself wrote, and the smart
// HTTP client against git http-backend (real upload-pack and receive-pack).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { git, initBare, refsOf } from '../scripts/lib/git-fixtures.mjs';
import { startGitHttpServer, type GitHttpServer } from '../scripts/lib/git-http-server.mjs';
import { PackError, provesFastForward, readPackCommits } from '../src/mirror/pack.js';
import {
  fetchPack,
  lsRefs,
  receivePack,
  receivePackRefs,
  WireError,
} from '../src/mirror/smart-http.js';
import { basicAuthorization } from '../src/platform/index.js';
import { tempDir } from './helpers/fixtures.js';

const TOKEN = 'ghs_wireTestToken0123456789';
let root: string;
let server: GitHttpServer;

beforeAll(async () => {
  root = tempDir('osa-wire-');
  server = await startGitHttpServer({ root, token: TOKEN });
});
afterAll(async () => {
  await server?.stop();
});

/** A repository whose history deltifies: one file edited line by line, a branch merged back. */
function history(name: string): string {
  const dir = initBare(join(root, `${name}.git`));
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
  let stream = '';
  let time = 1700000000;
  for (let i = 1; i <= 60; i++) {
    lines[(i * 37) % lines.length] = `line changed in ${i}`;
    const content = `${lines.join('\n')}\n`;
    const branch = i > 40 && i % 2 === 0 ? 'topic' : 'master';
    stream += `commit refs/heads/${branch}\nmark :${i}\ncommitter t <t@example.invalid> ${time++} +0000\ndata 9\nchange ${String(i).padStart(2, '0')}\n`;
    if (i === 41) stream += 'from :40\n';
    if (i === 60) stream += 'merge :59\n';
    stream += `M 100644 inline module.py\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  }
  git(dir, ['fast-import', '--quiet'], stream);
  return dir;
}

/** A pack git writes for `revs` (`id` and `^id` lines), thin if asked. */
function packOf(dir: string, revs: string[], thin = false): Buffer {
  return execFileSync(
    'git',
    ['pack-objects', '--stdout', '--revs', '--delta-base-offset', ...(thin ? ['--thin'] : [])],
    { cwd: dir, input: `${revs.join('\n')}\n`, maxBuffer: 1 << 26 },
  );
}

const parentsByGit = (dir: string, range: string[]): Map<string, string[]> =>
  new Map(
    git(dir, ['rev-list', '--parents', ...range])
      .trim()
      .split('\n')
      .map((line) => {
        const [id, ...parents] = line.split(' ');
        return [id!, parents];
      }),
  );

describe('the pack reader', () => {
  it('reads every commit and its parents from a whole pack and from a thin one, as git lists them', () => {
    const dir = history('reader');
    const master = git(dir, ['rev-parse', 'master']).trim();
    const whole = packOf(dir, [master]);
    const { commits } = readPackCommits(whole);
    expect(new Map(commits)).toEqual(parentsByGit(dir, [master]));
    // A thin pack of the last ten commits: deltas against blobs below its base, left unresolved.
    const base = git(dir, ['rev-parse', 'master~10']).trim();
    const thin = readPackCommits(packOf(dir, [master, `^${base}`], true));
    expect(new Map(thin.commits)).toEqual(parentsByGit(dir, [master, `^${base}`]));
    // The merge's chain reaches the base through its first parent; an unrelated base is not proven.
    expect(provesFastForward(thin.commits, base, master)).toBe(true);
    expect(
      provesFastForward(thin.commits, git(dir, ['rev-parse', 'master~30']).trim(), master),
    ).toBe(false);
    expect(provesFastForward(thin.commits, master, base)).toBe(false);
  });

  it('takes as parents only the parent lines after the tree, as git does: a parent header elsewhere proves nothing', () => {
    const dir = history('forged');
    const old = git(dir, ['rev-parse', 'master~5']).trim();
    const tree = git(dir, ['rev-parse', 'master^{tree}']).trim();
    const who = 'f <f@example.invalid> 1700000000 +0000';
    // A root commit that names `old` in an extra header after its committer: valid to git
    // (fsck --strict passes it), and not a descendant of `old`.
    const forged = git(
      dir,
      ['hash-object', '-t', 'commit', '-w', '--stdin'],
      `tree ${tree}\nauthor ${who}\ncommitter ${who}\nparent ${old}\n\nforged\n`,
    ).trim();
    git(dir, ['update-ref', 'refs/heads/forged', forged]);
    expect(() => git(dir, ['fsck', '--strict', '--no-dangling'])).not.toThrow();
    expect(() => git(dir, ['merge-base', '--is-ancestor', old, forged])).toThrow();
    const { commits } = readPackCommits(packOf(dir, [forged, `^${old}`], true));
    expect(commits.get(forged)).toEqual([]);
    expect(provesFastForward(commits, old, forged)).toBe(false);
  });

  it('resolves a commit stored as a ref delta on a commit of the pack, as git indexes it', () => {
    const dir = initBare(join(root, 'refdelta.git'));
    const who = 'r <r@example.invalid> 1700000000 +0000';
    const tree = git(dir, ['mktree'], '').trim();
    const first = Buffer.from(`tree ${tree}\nauthor ${who}\ncommitter ${who}\n\nfirst\n`);
    const firstId = createHash('sha1').update(`commit ${first.length}\0`).update(first).digest();
    const second = Buffer.from(
      `tree ${tree}\nparent ${firstId.toString('hex')}\nauthor ${who}\ncommitter ${who}\n\nsecond\n`,
    );
    const secondId = createHash('sha1').update(`commit ${second.length}\0`).update(second).digest();
    // The delta: the sizes, then the second commit inserted in pieces of at most 127 bytes.
    const varint = (n: number) => {
      const out: number[] = [];
      do {
        out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>= 7;
      } while (n > 0);
      return Buffer.from(out);
    };
    const inserts: Buffer[] = [];
    for (let at = 0; at < second.length; at += 127) {
      const piece = second.subarray(at, at + 127);
      inserts.push(Buffer.from([piece.length]), piece);
    }
    const delta = Buffer.concat([varint(first.length), varint(second.length), ...inserts]);
    const header = (type: number, size: number) => {
      const out = [(type << 4) | (size & 0x0f) | (size > 0x0f ? 0x80 : 0)];
      for (let rest = size >> 4; rest > 0; rest >>= 7)
        out.push((rest & 0x7f) | (rest > 0x7f ? 0x80 : 0));
      return Buffer.from(out);
    };
    const body = Buffer.concat([
      Buffer.from('PACK'),
      Buffer.from([0, 0, 0, 2, 0, 0, 0, 2]),
      header(1, first.length),
      deflateSync(first),
      header(7, delta.length),
      firstId,
      deflateSync(delta),
    ]);
    const pack = Buffer.concat([body, createHash('sha1').update(body).digest()]);
    // git takes it as a pack of these two commits, the second a delta.
    const packFile = join(root, 'refdelta.pack');
    writeFileSync(packFile, pack);
    execFileSync('git', ['index-pack', packFile], { cwd: dir });
    // The second is a delta (depth 1) on the first.
    expect(git(dir, ['verify-pack', '-v', packFile.replace(/pack$/, 'idx')])).toMatch(
      new RegExp(`${secondId.toString('hex')} commit \\d+ \\d+ \\d+ 1 ${firstId.toString('hex')}`),
    );
    const { commits } = readPackCommits(pack);
    expect(commits.get(secondId.toString('hex'))).toEqual([firstId.toString('hex')]);
    expect(provesFastForward(commits, firstId.toString('hex'), secondId.toString('hex'))).toBe(
      true,
    );
  });

  it('refuses a pack with an object that would inflate past what it reads, before inflating it', () => {
    const dir = initBare(join(root, 'bomb.git'));
    // 80 MiB of zeros: a pack of a few hundred kilobytes.
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], {
      cwd: dir,
      input: Buffer.alloc(80 * 1024 * 1024),
    })
      .toString()
      .trim();
    const pack = execFileSync('git', ['pack-objects', '--stdout'], {
      cwd: dir,
      input: `${blob}\n`,
    });
    expect(pack.length).toBeLessThan(1024 * 1024);
    expect(() => readPackCommits(pack)).toThrow(/too big to read here/);
  });

  it('refuses a pack that is truncated, corrupt, or not a pack', () => {
    const dir = history('broken');
    const pack = packOf(dir, [git(dir, ['rev-parse', 'master']).trim()]);
    const flipped = Buffer.from(pack);
    flipped[Math.floor(pack.length / 2)]! ^= 0xff;
    expect(() => readPackCommits(flipped)).toThrow(/checksum/);
    expect(() => readPackCommits(pack.subarray(0, pack.length - 100))).toThrow(PackError);
    expect(() => readPackCommits(Buffer.from('not a pack at all, not at all, no'))).toThrow(
      /not a pack/,
    );
  });
});

describe('the smart HTTP client, against git http-backend', () => {
  const auth = { authorization: basicAuthorization(TOKEN) };

  it('lists what git ls-remote lists, and fetches a thin pack of only what the haves lack', async () => {
    const dir = history('listed');
    git(dir, ['tag', '-a', '-m', 'r', '1.0.0', 'master~5']);
    const url = `${server.url}/listed.git`;
    const refs = await lsRefs(url, auth);
    expect([...refs].map(([ref, id]) => `${id} ${ref}`).join('\n')).toBe(refsOf(dir));
    const master = refs.get('refs/heads/master')!;
    const base = git(dir, ['rev-parse', 'master~3']).trim();
    const pack = await fetchPack(url, [master], [base], auth);
    expect(new Map(readPackCommits(pack).commits)).toEqual(parentsByGit(dir, [master, `^${base}`]));
    expect(pack.length).toBeLessThan(packOf(dir, [master]).length / 5);
    // A want the source does not have as a tip is refused, and said so.
    await expect(fetchPack(url, ['1'.repeat(40)], [], auth)).rejects.toThrow(WireError);
  });

  it('pushes atomically, every ref leased: a stale lease takes nothing, a right one takes all', async () => {
    const source = history('push-source');
    const dir = initBare(join(root, 'push-dest.git'));
    git(source, ['push', '--quiet', dir, 'master~2:refs/heads/master', 'topic:refs/heads/topic']);
    const url = `${server.url}/push-dest.git`;
    const advertised = await receivePackRefs(url, auth);
    expect([...advertised.refs.keys()]).toEqual(['refs/heads/master', 'refs/heads/topic']);
    expect(advertised.capabilities.has('atomic')).toBe(true);
    const oldMaster = advertised.refs.get('refs/heads/master')!;
    const master = git(source, ['rev-parse', 'master']).trim();
    const pack = packOf(source, [master, `^${oldMaster}`], true);
    const before = refsOf(dir);
    const stale = await receivePack(
      url,
      auth,
      advertised.capabilities,
      [
        {
          ref: 'refs/heads/master',
          old: git(source, ['rev-parse', 'master~1']).trim(),
          new: master,
        },
        { ref: 'refs/heads/topic', old: advertised.refs.get('refs/heads/topic')!, new: null },
      ],
      pack,
    );
    expect(stale.map((r) => r.ref).sort()).toEqual(['refs/heads/master', 'refs/heads/topic']);
    expect(refsOf(dir)).toBe(before);
    const taken = await receivePack(
      url,
      auth,
      advertised.capabilities,
      [
        { ref: 'refs/heads/topic', old: advertised.refs.get('refs/heads/topic')!, new: null },
        { ref: 'refs/heads/master', old: oldMaster, new: master },
        { ref: 'refs/tags/new', old: null, new: oldMaster },
      ],
      pack,
    );
    expect(taken).toEqual([]);
    expect(refsOf(dir)).toBe(
      [`${master} refs/heads/master`, `${oldMaster} refs/tags/new`].join('\n'),
    );
    expect(() => git(dir, ['fsck', '--connectivity-only', '--no-dangling'])).not.toThrow();
  });

  it('fails a pack that lacks history, and a request without the token, taking nothing', async () => {
    const source = history('incomplete-source');
    const dir = initBare(join(root, 'incomplete-dest.git'));
    git(source, ['push', '--quiet', dir, 'master~20:refs/heads/master']);
    const url = `${server.url}/incomplete-dest.git`;
    const advertised = await receivePackRefs(url, auth);
    const master = git(source, ['rev-parse', 'master']).trim();
    // The last ten commits only, over a destination twenty behind: history is missing.
    const short = packOf(source, [master, `^${git(source, ['rev-parse', 'master~10']).trim()}`]);
    const update = [
      { ref: 'refs/heads/master', old: advertised.refs.get('refs/heads/master')!, new: master },
    ];
    const before = refsOf(dir);
    await expect(
      receivePack(url, auth, advertised.capabilities, update, short),
    ).resolves.not.toEqual([]);
    expect(refsOf(dir)).toBe(before);
    await expect(receivePackRefs(url, {})).rejects.toThrow(/HTTP 401/);
  });
});

// The benchmark's stand-in for remote servers (their CPU not this machine's) must answer as git
// would right now, or it would hide a mirror that acts on a stale listing.
describe("the stand-in's recorded listings", () => {
  it("replay git's answer only while the repository is unchanged, never an error, never without the token", async () => {
    const auth = { authorization: basicAuthorization(TOKEN) };
    const replaying = await startGitHttpServer({ root, token: TOKEN, replayListings: true });
    try {
      const dir = history('replayed');
      const url = `${replaying.url}/replayed.git`;
      const live = {
        source: await lsRefs(url, auth),
        destination: await receivePackRefs(url, auth),
      };
      expect(replaying.stats.replayed).toBe(0);
      expect(await lsRefs(url, auth)).toEqual(live.source);
      expect(await receivePackRefs(url, auth)).toEqual(live.destination);
      expect(replaying.stats.replayed).toBe(2);
      await expect(receivePackRefs(url, {})).rejects.toThrow(/HTTP 401/);
      // A ref moved (loose, then packed): the next answers are live, and say so.
      git(dir, ['update-ref', 'refs/heads/master', 'master~1']);
      const moved = git(dir, ['rev-parse', 'master']).trim();
      expect((await lsRefs(url, auth)).get('refs/heads/master')).toBe(moved);
      expect((await receivePackRefs(url, auth)).refs.get('refs/heads/master')).toBe(moved);
      expect(replaying.stats.replayed).toBe(2);
      git(dir, ['pack-refs', '--all']);
      git(dir, ['tag', 'v1', 'master~2']);
      expect((await lsRefs(url, auth)).has('refs/tags/v1')).toBe(true);
      expect(replaying.stats.replayed).toBe(2);
      // A fetch is never replayed: the same request twice runs git twice.
      const master = git(dir, ['rev-parse', 'master']).trim();
      await fetchPack(url, [master], [], auth);
      await fetchPack(url, [master], [], auth);
      // Nor is an error: a repository that is not there is asked of git each time.
      for (let i = 0; i < 2; i++)
        await expect(lsRefs(`${replaying.url}/absent.git`, auth)).rejects.toThrow(/HTTP 404/);
      // Nor is anything while a fault is set.
      replaying.faults.failReceivePack = true;
      await lsRefs(url, auth);
      replaying.faults.failReceivePack = false;
      expect(replaying.stats.replayed).toBe(2);
      await lsRefs(url, auth);
      expect(replaying.stats.replayed).toBe(3);
    } finally {
      await replaying.stop();
    }
  });
});
