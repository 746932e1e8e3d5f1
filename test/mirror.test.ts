import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addCommits, git, initBare, refsOf, startGitDaemon } from '../scripts/lib/git-fixtures.mjs';
import { startGitHttpServer, type GitHttpServer } from '../scripts/lib/git-http-server.mjs';
import { DirectoryStore } from '../src/mirror/dir-store.js';
import { mirrorAll, type MirrorOptions, type RepoResult } from '../src/mirror/mirror.js';
import { parseMirrorPairs, parseRefFilter } from '../src/mirror/spec.js';
import { tempDir } from './helpers/fixtures.js';

const TOKEN = 'ghs_mirrorTestToken0123456789';

let root: string;
let daemon: { url: string; stop(): Promise<void> };
let http: GitHttpServer;
/** An upstream over HTTP without auth, whose fetches can be made to die. */
let open: GitHttpServer;

beforeAll(async () => {
  root = tempDir('osa-mirror-');
  daemon = await startGitDaemon(root);
  http = await startGitHttpServer({ root, token: TOKEN });
  open = await startGitHttpServer({ root });
});
afterAll(async () => {
  await daemon?.stop();
  await http?.stop();
  await open?.stop();
});

let counter = 0;
/** A fresh upstream (served by git daemon) with OpenStack-like refs, and an empty destination (HTTP with token). */
function scenario() {
  const name = `repo${++counter}`;
  const upstream = join(root, 'opendev', `${name}.git`);
  initBare(upstream);
  addCommits(upstream, 'master', 5);
  addCommits(upstream, 'stable/2025.1', 3, { from: 'refs/heads/master', tag: '31.0.0' });
  addCommits(upstream, 'stable/2024.2', 2, { from: 'refs/heads/master', tag: '2024.2-eol' });
  addCommits(upstream, 'unmaintained/2024.1', 2, { from: 'refs/heads/master' });
  const destination = initBare(join(root, 'github', `${name}.git`));
  const workDir = tempDir('osa-mirror-work-');
  const options = (extra: Partial<MirrorOptions> = {}): MirrorOptions => ({
    pairs: parseMirrorPairs(`${daemon.url}/opendev/${name}.git -> ${http.url}/github/${name}.git`),
    filter: parseRefFilter([]),
    token: TOKEN,
    concurrency: 2,
    maxDestructiveFraction: 0.1,
    allowDestructive: false,
    workDir,
    ...extra,
  });
  const run = async (extra: Partial<MirrorOptions> = {}): Promise<RepoResult> =>
    (await mirrorAll(options(extra)))[0]!;
  return { name, upstream, destination, workDir, options, run };
}

const names = (changes: { ref: string }[]) => changes.map((c) => c.ref);
/** Installs an executable hook script in a repository (a destination's, or a cached copy's). */
function installHook(repo: string, name: string, script: string): void {
  const hook = join(repo, 'hooks', name);
  mkdirSync(join(repo, 'hooks'), { recursive: true });
  writeFileSync(hook, script);
  chmodSync(hook, 0o755);
}
const pushesTo = (name: string) =>
  http.requests.filter(
    (r) => r.path === `/github/${name}.git/git-receive-pack` && r.method === 'POST',
  ).length;

describe('mirror: real git daemon upstream, git http-backend destination with a token', () => {
  it('mirrors every branch and tag on the first run, with annotated tags intact', async () => {
    const s = scenario();
    const result = await s.run();
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('mirrored');
    expect(names(result.created)).toEqual([
      'refs/heads/master',
      'refs/heads/stable/2024.2',
      'refs/heads/stable/2025.1',
      'refs/heads/unmaintained/2024.1',
      'refs/tags/2024.2-eol',
      'refs/tags/31.0.0',
    ]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
    expect(git(s.destination, ['cat-file', '-t', 'refs/tags/31.0.0']).trim()).toBe('tag');
  });

  it('does nothing at all on a run with no upstream change: no fetch, no push', async () => {
    const s = scenario();
    await s.run();
    const pushes = pushesTo(s.name);
    const result = await s.run();
    expect(result).toMatchObject({
      status: 'unchanged',
      fetched: false,
      created: [],
      updated: [],
      deleted: [],
    });
    expect(pushesTo(s.name)).toBe(pushes);
  });

  it('pushes only the branches with new commits, as fast-forwards', async () => {
    const s = scenario();
    await s.run();
    const before = git(s.upstream, ['rev-parse', 'refs/heads/master']).trim();
    const after = addCommits(s.upstream, 'master', 4);
    addCommits(s.upstream, 'stable/2025.1', 1);
    const result = await s.run();
    expect(result.status).toBe('mirrored');
    expect(result.updated).toEqual([
      { ref: 'refs/heads/master', old: before, new: after, forced: false },
      expect.objectContaining({ ref: 'refs/heads/stable/2025.1', forced: false }),
    ]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('carries a deleted upstream branch over, and a new and a moved tag', async () => {
    const s = scenario();
    addCommits(s.upstream, 'stable/2023.2', 1, { from: 'refs/heads/master' });
    await s.run();
    git(s.upstream, ['update-ref', '-d', 'refs/heads/stable/2023.2']);
    git(s.upstream, ['tag', '-a', '-m', 'eom', '2024.1-eom', 'refs/heads/unmaintained/2024.1']);
    git(s.upstream, ['tag', '-f', '-a', '-m', 'moved', '31.0.0', 'refs/heads/master']);
    const result = await s.run();
    expect(result.status).toBe('mirrored');
    expect(names(result.deleted)).toEqual(['refs/heads/stable/2023.2']);
    expect(names(result.created)).toEqual(['refs/tags/2024.1-eom']);
    expect(result.updated).toEqual([
      expect.objectContaining({ ref: 'refs/tags/31.0.0', forced: true }),
    ]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('follows a force-pushed upstream branch, leased on what it read', async () => {
    const s = scenario();
    await s.run();
    const base = git(s.upstream, ['rev-parse', 'refs/heads/stable/2025.1~2']).trim();
    git(s.upstream, ['update-ref', 'refs/heads/stable/2025.1', base]);
    addCommits(s.upstream, 'stable/2025.1', 1);
    const result = await s.run();
    expect(result.updated).toEqual([
      expect.objectContaining({ ref: 'refs/heads/stable/2025.1', forced: true }),
    ]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('pushes nothing and deletes nothing when the upstream dies in the middle of a fetch', async () => {
    const s = scenario();
    const viaHttp = (o: MirrorOptions): MirrorOptions => ({
      ...o,
      pairs: parseMirrorPairs(
        `${open.url}/opendev/${s.name}.git -> ${http.url}/github/${s.name}.git`,
      ),
    });
    await mirrorAll(viaHttp(s.options()));
    const destinationBefore = refsOf(s.destination);
    git(s.upstream, ['update-ref', '-d', 'refs/heads/unmaintained/2024.1']);
    addCommits(s.upstream, 'master', 200);
    open.faults.breakUploadPackAfter = 2000;
    const logs: string[] = [];
    try {
      const [result] = await mirrorAll(
        viaHttp(s.options({ log: (_slug, message) => logs.push(message) })),
      );
      expect(result!.status).toBe('failed');
      expect(result!.error).toMatch(/fetch from .* failed, nothing pushed/);
      // The in-process fetch died first and left it to git, which died too.
      expect(logs.join('\n')).toMatch(/fetch in-process: .*; listing afresh through git/);
    } finally {
      open.faults.breakUploadPackAfter = null;
    }
    expect(refsOf(s.destination)).toBe(destinationBefore);
    // And the next healthy run catches up, deletion included.
    const [healthy] = await mirrorAll(viaHttp(s.options()));
    expect(healthy!.status).toBe('mirrored');
    expect(names(healthy!.deleted)).toEqual(['refs/heads/unmaintained/2024.1']);
  });

  it('reports the one ref the destination refuses and still mirrors the others', async () => {
    const s = scenario();
    installHook(
      s.destination,
      'update',
      '#!/bin/sh\ncase "$1" in refs/heads/stable/2024.2) echo "protected branch" >&2; exit 1;; esac\nexit 0\n',
    );
    const result = await s.run();
    expect(result.status).toBe('partial');
    expect(result.rejected).toEqual([
      { ref: 'refs/heads/stable/2024.2', reason: expect.stringMatching(/hook declined/) },
    ]);
    expect(result.error).toMatch(/refused refs\/heads\/stable\/2024\.2/);
    expect(names(result.created)).not.toContain('refs/heads/stable/2024.2');
    expect(git(s.destination, ['for-each-ref', '--format=%(refname)']).trim().split('\n')).toEqual([
      'refs/heads/master',
      'refs/heads/stable/2025.1',
      'refs/heads/unmaintained/2024.1',
      'refs/tags/2024.2-eol',
      'refs/tags/31.0.0',
    ]);
  });

  it('finds the one ref a pre-receive hook refuses, when the hook declines the whole push', async () => {
    const s = scenario();
    // pre-receive judges a push as a whole: one bad ref and every ref comes back declined.
    installHook(
      s.destination,
      'pre-receive',
      '#!/bin/sh\nwhile read old new ref; do [ "$ref" = refs/heads/stable/2024.2 ] && { echo "protected" >&2; exit 1; }; done\nexit 0\n',
    );
    const result = await s.run();
    expect(result.status).toBe('partial');
    expect(result.rejected).toEqual([
      {
        ref: 'refs/heads/stable/2024.2',
        reason: expect.stringMatching(/pre-receive hook declined/),
      },
    ]);
    expect(names(result.created)).toEqual([
      'refs/heads/master',
      'refs/heads/stable/2025.1',
      'refs/heads/unmaintained/2024.1',
      'refs/tags/2024.2-eol',
      'refs/tags/31.0.0',
    ]);
    expect(git(s.destination, ['for-each-ref', '--format=%(refname)']).trim().split('\n')).toEqual(
      names(result.created),
    );
    // The next run still lands what it can and reports the same refusal, nothing more.
    addCommits(s.upstream, 'master', 1);
    const next = await s.run();
    expect(next.status).toBe('partial');
    expect(next.rejected.map((r) => r.ref)).toEqual(['refs/heads/stable/2024.2']);
    expect(names(next.updated)).toEqual(['refs/heads/master']);
    expect(git(s.destination, ['rev-parse', 'refs/heads/master']).trim()).toBe(
      git(s.upstream, ['rev-parse', 'refs/heads/master']).trim(),
    );
  });

  it('discards a corrupt cached copy (refs without their objects) and fetches afresh, once', async () => {
    const s = scenario();
    const storeDir = tempDir('osa-store-');
    const store = new DirectoryStore(storeDir);
    // A first mirror that did not push (a dry run): the destination is still empty, so the
    // complete copy is stored for the next run.
    await s.run({ store, dryRun: true });
    // The saved copy keeps its refs but loses every object, as a restore that died halfway would.
    const saved = join(storeDir, readdirSync(storeDir)[0]!);
    for (const pack of readdirSync(join(saved, 'objects/pack')))
      rmSync(join(saved, 'objects/pack', pack));
    for (const dir of readdirSync(join(saved, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d)))
      rmSync(join(saved, 'objects', dir), { recursive: true });
    addCommits(s.upstream, 'stable/2025.1', 2);
    const logs: string[] = [];
    const result = await s.run({
      store,
      workDir: tempDir('osa-mirror-work-'),
      log: (_slug, message) => logs.push(message),
    });
    expect(result.error).toBeUndefined();
    expect([result.status, result.cacheHit, result.fetched]).toEqual(['mirrored', true, true]);
    expect(logs.join('\n')).toMatch(/fetching afresh/);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('carries a deletion over without fetching, even from an upstream whose HEAD is unborn', async () => {
    const s = scenario();
    const viaHttp = (extra: Partial<MirrorOptions> = {}) => ({
      ...s.options(extra),
      pairs: parseMirrorPairs(
        `${open.url}/opendev/${s.name}.git -> ${http.url}/github/${s.name}.git`,
      ),
    });
    const store = new DirectoryStore(tempDir('osa-store-'));
    await mirrorAll(viaHttp({ store }));
    git(s.upstream, ['update-ref', '-d', 'refs/heads/unmaintained/2024.1']);
    git(s.upstream, ['symbolic-ref', 'HEAD', 'refs/heads/never-created']);
    // Over protocol v2 the listing is one upload-pack POST (ls-refs); a fetch would add more.
    const uploads = () =>
      open.requests.filter((r) => r.path.endsWith('/git-upload-pack') && r.method === 'POST')
        .length;
    for (const workDir of [s.workDir, tempDir('osa-mirror-work-')]) {
      const before = uploads();
      const [result] = await mirrorAll(viaHttp({ store, workDir }));
      expect(result!.error).toBeUndefined();
      expect(result!.fetched).toBe(false);
      expect(uploads() - before).toBe(1);
      if (workDir === s.workDir)
        expect(names(result!.deleted)).toEqual(['refs/heads/unmaintained/2024.1']);
    }
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('never lets a small repository lose most of its refs without allow-destructive', async () => {
    const s = scenario();
    const small = join(root, 'opendev', `${s.name}-small.git`);
    initBare(small);
    addCommits(small, 'master', 1);
    addCommits(small, 'stable/2025.1', 1, { from: 'refs/heads/master' });
    addCommits(small, 'stable/2024.2', 1, { from: 'refs/heads/master' });
    const pairs = parseMirrorPairs(
      `${daemon.url}/opendev/${s.name}-small.git -> ${http.url}/github/${s.name}.git`,
    );
    expect((await mirrorAll({ ...s.options(), pairs }))[0]!.status).toBe('mirrored');
    git(small, ['update-ref', '-d', 'refs/heads/stable/2025.1']);
    git(small, ['update-ref', '-d', 'refs/heads/stable/2024.2']);
    const before = refsOf(s.destination);
    const [refused] = await mirrorAll({ ...s.options(), pairs });
    expect(refused!.status).toBe('refused');
    expect(refused!.error).toMatch(/would delete or force-update 2 of 3 refs \(limit 1\)/);
    expect(refsOf(s.destination)).toBe(before);
  });

  it('takes only objects and refs from a cached copy: no hook of it runs, no config of it redirects', async () => {
    const s = scenario();
    const storeDir = tempDir('osa-store-');
    const store = new DirectoryStore(storeDir);
    await s.run({ store, dryRun: true });
    const saved = join(storeDir, readdirSync(storeDir)[0]!);
    // A poisoned cache entry: a hook that would see the job's environment, and a fetch redirect.
    const stolen = join(tempDir('osa-stolen-'), 'env');
    installHook(saved, 'reference-transaction', `#!/bin/sh\nenv >> ${stolen}\n`);
    const evil = join(root, 'opendev', `${s.name}-evil.git`);
    initBare(evil);
    addCommits(evil, 'master', 1);
    git(saved, ['config', `url.file://${evil}.insteadOf`, `${daemon.url}/opendev/${s.name}.git`]);
    addCommits(s.upstream, 'master', 1);
    process.env.INPUT_TOKEN = TOKEN;
    try {
      const result = await s.run({ store, workDir: tempDir('osa-mirror-work-') });
      expect(result.status).toBe('mirrored');
    } finally {
      delete process.env.INPUT_TOKEN;
    }
    expect(existsSync(stolen)).toBe(false);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('fetches afresh when the cached copy has the current refs but not their objects', async () => {
    const s = scenario();
    const storeDir = tempDir('osa-store-');
    const store = new DirectoryStore(storeDir);
    await s.run({ store, dryRun: true });
    addCommits(s.upstream, 'stable/2025.1', 2);
    // The saved copy claims the new tip (a restore that died halfway), and has no objects at all.
    const saved = join(storeDir, readdirSync(storeDir)[0]!);
    const tip = git(s.upstream, ['rev-parse', 'refs/heads/stable/2025.1']).trim();
    mkdirSync(join(saved, 'refs/heads/stable'), { recursive: true });
    writeFileSync(join(saved, 'refs/heads/stable/2025.1'), `${tip}\n`);
    rmSync(join(saved, 'objects'), { recursive: true });
    mkdirSync(join(saved, 'objects/pack'), { recursive: true });
    mkdirSync(join(saved, 'objects/info'), { recursive: true });
    const result = await s.run({ store, workDir: tempDir('osa-mirror-work-') });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('mirrored');
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('keeps reporting what landed when a later group of a split push fails outright', async () => {
    const s = scenario();
    // Declines any push carrying stable/2024.2; dies (no answer at all) on one carrying a tag.
    installHook(
      s.destination,
      'pre-receive',
      '#!/bin/sh\nwhile read old new ref; do\n  [ "$ref" = refs/heads/stable/2024.2 ] && exit 1\n  case "$ref" in refs/tags/*) kill -9 $PPID;; esac\ndone\nexit 0\n',
    );
    const result = await s.run();
    expect(result.status).toBe('partial');
    const landed = git(s.destination, ['for-each-ref', '--format=%(refname)']).trim().split('\n');
    expect(landed).toEqual(expect.arrayContaining(['refs/heads/master']));
    expect(names(result.created).sort()).toEqual(landed.sort());
    // Every ref is either reported landed or reported refused (with why), never both or neither.
    const refused = result.rejected.map((r) => r.ref);
    expect([...names(result.created), ...refused].sort()).toEqual(
      [...refsOf(s.upstream).matchAll(/refs\/\S+/g)].map((m) => m[0]).sort(),
    );
    expect(refused).toEqual(
      expect.arrayContaining(['refs/heads/stable/2024.2', 'refs/tags/31.0.0']),
    );
  });

  it('needs two pushes, not one a ref, when the destination refuses many refs by name', async () => {
    const s = scenario();
    for (let i = 0; i < 30; i++)
      addCommits(s.upstream, `topic${i}`, 1, { from: 'refs/heads/master' });
    installHook(
      s.destination,
      'update',
      '#!/bin/sh\ncase "$1" in refs/heads/topic*) exit 1;; esac\nexit 0\n',
    );
    const pushes = pushesTo(s.name);
    const result = await s.run();
    expect(pushesTo(s.name) - pushes).toBe(2);
    expect(result.status).toBe('partial');
    expect(result.rejected).toHaveLength(30);
    expect(names(result.created)).toHaveLength(6);
    expect(git(s.destination, ['for-each-ref', '--format=%(refname)']).trim().split('\n')).toEqual(
      names(result.created),
    );
  });

  it('refuses a run that would destroy much of the destination unless allowed', async () => {
    const s = scenario();
    for (let i = 0; i < 20; i++)
      addCommits(s.upstream, `stable/old${i}`, 1, { from: 'refs/heads/master' });
    await s.run();
    for (let i = 0; i < 20; i++) git(s.upstream, ['update-ref', '-d', `refs/heads/stable/old${i}`]);
    const before = refsOf(s.destination);
    const refused = await s.run();
    expect(refused.status).toBe('refused');
    expect(refused.error).toMatch(
      /would delete or force-update 20 of 26 refs \(limit 2\).*allow-destructive: true/,
    );
    expect(refsOf(s.destination)).toBe(before);
    const allowed = await s.run({ allowDestructive: true });
    expect(allowed.deleted).toHaveLength(20);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('refuses an upstream that lists nothing, instead of wiping the destination', async () => {
    const s = scenario();
    await s.run();
    const empty = initBare(join(root, 'opendev', `${s.name}-empty.git`));
    expect(empty).toBeTruthy();
    const [result] = await mirrorAll({
      ...s.options(),
      pairs: parseMirrorPairs(
        `${daemon.url}/opendev/${s.name}-empty.git -> ${http.url}/github/${s.name}.git`,
      ),
      allowDestructive: true,
    });
    expect(result!.status).toBe('refused');
    expect(result!.error).toMatch(/lists no branches or tags/);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('leaves destination-only branches outside the mirrored set alone', async () => {
    const s = scenario();
    await s.run();
    addCommits(s.destination, 'github-ci', 1, { from: 'refs/heads/master' });
    const result = await s.run({
      filter: parseRefFilter(['refs/heads/**', 'refs/tags/**', '!refs/heads/github-*']),
    });
    expect(result.status).toBe('unchanged');
    expect(git(s.destination, ['rev-parse', '--verify', 'refs/heads/github-ci'])).toBeTruthy();
  });

  it('fails a repo whose destination token is wrong, naming it, and goes on with the others', async () => {
    const good = scenario();
    const bad = scenario();
    const results = await mirrorAll({
      ...good.options(),
      pairs: [
        ...good.options().pairs,
        ...parseMirrorPairs(
          `${daemon.url}/opendev/nothing-here.git -> ${http.url}/github/${bad.name}.git`,
        ),
      ],
    });
    expect(results.map((r) => r.status)).toEqual(['mirrored', 'failed']);
    expect(results[1]!.error).toMatch(/cannot list the source/);
    const [denied] = await mirrorAll({ ...bad.options(), token: 'wrong-token' });
    expect(denied!.status).toBe('failed');
    expect(denied!.error).toMatch(/cannot list the destination/);
    expect(JSON.stringify(denied)).not.toContain('wrong-token');
  });

  it('a fresh runner lists only when nothing changed, and begins from the destination, fetching only what is new, when it did', async () => {
    const s = scenario();
    // git's path (the in-process relay is tested below).
    const viaHttp = (extra: Partial<MirrorOptions>) => ({
      ...s.options({ direct: false, ...extra }),
      pairs: parseMirrorPairs(
        `${open.url}/opendev/${s.name}.git -> ${http.url}/github/${s.name}.git`,
      ),
    });
    addCommits(s.upstream, 'master', 300);
    const store = new DirectoryStore(tempDir('osa-store-'));
    let bytes = open.stats.bytesOut;
    const [first] = await mirrorAll(viaHttp({ store }));
    const firstBytes = open.stats.bytesOut - bytes;
    expect([first!.cacheHit, first!.fetched, first!.status]).toEqual([false, true, 'mirrored']);

    const [idle] = await mirrorAll(viaHttp({ store, workDir: tempDir('osa-mirror-work-') }));
    expect([idle!.cacheHit, idle!.fetched, idle!.status]).toEqual([false, false, 'unchanged']);

    addCommits(s.upstream, 'stable/2025.1', 1);
    bytes = open.stats.bytesOut;
    const work = tempDir('osa-mirror-work-');
    const [next] = await mirrorAll(viaHttp({ store, workDir: work }));
    expect([next!.cacheHit, next!.base, next!.fetched, next!.status]).toEqual([
      false,
      'destination',
      true,
      'mirrored',
    ]);
    expect(names(next!.updated)).toEqual(['refs/heads/stable/2025.1']);
    expect(open.stats.bytesOut - bytes).toBeLessThan(firstBytes / 20);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
    // Nothing was stored (the destination has it all), and the shallow copy is not left behind.
    expect(readdirSync(work)).toEqual([]);
  });

  it('begins a fresh runner from the destination and still lands every shape of change: a branch cut from an old commit, a tag on an old commit, a rewind, a deletion, a tag moved', async () => {
    const s = scenario();
    addCommits(s.upstream, 'master', 40);
    expect((await s.run()).status).toBe('mirrored');
    const old = git(s.upstream, ['rev-parse', 'refs/heads/master~30']).trim();
    addCommits(s.upstream, 'master', 2);
    addCommits(s.upstream, 'stable/2026.1', 2, { from: old });
    git(s.upstream, ['tag', '-a', '-m', 'old', '30.0.0', `${old}~1`]);
    git(s.upstream, ['update-ref', 'refs/heads/stable/2025.1', 'refs/heads/stable/2025.1~2']);
    git(s.upstream, ['update-ref', '-d', 'refs/heads/unmaintained/2024.1']);
    git(s.upstream, ['tag', '-f', '-a', '-m', 'moved', '31.0.0', 'refs/heads/master']);
    const logs: string[] = [];
    const result = await s.run({
      workDir: tempDir('osa-mirror-work-'),
      allowDestructive: true,
      log: (_slug, message) => logs.push(message),
    });
    expect(result.error).toBeUndefined();
    expect([result.status, result.base]).toEqual(['mirrored', 'destination']);
    expect(logs.join('\n')).not.toMatch(/fetching afresh/);
    expect(names(result.created).sort()).toEqual(['refs/heads/stable/2026.1', 'refs/tags/30.0.0']);
    expect(names(result.deleted)).toEqual(['refs/heads/unmaintained/2024.1']);
    expect(names(result.updated).sort()).toEqual([
      'refs/heads/master',
      'refs/heads/stable/2025.1',
      'refs/tags/31.0.0',
    ]);
    // The rewind is a force-update, so counted destructive; the rest are fast-forwards.
    expect(
      result.updated
        .filter((c) => c.forced)
        .map((c) => c.ref)
        .sort(),
    ).toEqual(['refs/heads/stable/2025.1', 'refs/tags/31.0.0']);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
    // The destination is whole: every object of every ref is there.
    expect(() =>
      git(s.destination, ['fsck', '--connectivity-only', '--no-dangling']),
    ).not.toThrow();
  });

  it('begins from the destination without sending the source its token (same host), fetching only what the mirrored refs need, and little for a branch and an -eol tag cut at a branch tip', async () => {
    const s = scenario();
    addCommits(s.upstream, 'master', 300);
    addCommits(s.upstream, 'stable/2026.1', 2, { from: 'refs/heads/master' });
    addCommits(s.upstream, 'master', 30);
    // Source and destination on one host: the token is the destination's alone.
    const pairs = parseMirrorPairs(
      `${open.url}/opendev/${s.name}.git -> ${open.url}/github/${s.name}.git`,
    );
    // git's path (the in-process relay is tested below).
    const runOnce = async (extra: Partial<MirrorOptions> = {}) =>
      (
        await mirrorAll({
          ...s.options({ direct: false, ...extra }),
          pairs,
          workDir: tempDir('osa-mirror-work-'),
        })
      )[0]!;
    const fromSource = () => open.stats.bytesOut;
    let bytes = fromSource();
    expect((await runOnce()).status).toBe('mirrored');
    const firstBytes = fromSource() - bytes;
    // unmaintained/ and -eol cut at the stable branch's tip (300 commits of history below it),
    // the stable branch deleted.
    const stable = git(s.upstream, ['rev-parse', 'refs/heads/stable/2026.1']).trim();
    git(s.upstream, ['update-ref', 'refs/heads/unmaintained/2026.1', stable]);
    git(s.upstream, ['tag', '-a', '-m', 'eol', '2026.1-eol', stable]);
    git(s.upstream, ['update-ref', '-d', 'refs/heads/stable/2026.1']);
    const start = open.requests.length;
    bytes = fromSource();
    const cut = await runOnce();
    expect([cut.status, cut.base]).toEqual(['mirrored', 'destination']);
    // (Beginning from master alone, the source sent two thirds of all history here.)
    expect(fromSource() - bytes).toBeLessThan(firstBytes / 10);
    // Refs outside the filter are not fetched: a change on master with only stable/** mirrored.
    addCommits(s.upstream, 'master', 1);
    addCommits(s.upstream, 'stable/2025.1', 1);
    bytes = fromSource();
    const narrow = await runOnce({ filter: parseRefFilter(['refs/heads/stable/**']) });
    expect(names(narrow.updated)).toEqual(['refs/heads/stable/2025.1']);
    expect(fromSource() - bytes).toBeLessThan(firstBytes / 10);
    const sent = open.requests.slice(start);
    expect(sent.filter((r) => r.path.startsWith('/opendev/') && r.sentAuth)).toEqual([]);
    expect(sent.some((r) => r.path.startsWith('/github/') && r.sentAuth)).toBe(true);
  });

  it('computes the plan without pushing in a dry run', async () => {
    const s = scenario();
    const result = await s.run({ dryRun: true });
    expect(result.status).toBe('dry-run');
    expect(result.created).toHaveLength(6);
    expect(refsOf(s.destination)).toBe('');
  });
});

describe('mirror: the in-process relay, http source and destination', () => {
  /** A scenario over HTTP both ways (the source without auth), first mirrored through git. */
  async function relayed() {
    const s = scenario();
    addCommits(s.upstream, 'master', 300);
    const pairs = parseMirrorPairs(
      `${open.url}/opendev/${s.name}.git -> ${http.url}/github/${s.name}.git`,
    );
    const logs: string[] = [];
    const runOnce = async (extra: Partial<MirrorOptions> = {}) =>
      (
        await mirrorAll({
          ...s.options({ log: (_slug, message) => logs.push(message), ...extra }),
          pairs,
          workDir: tempDir('osa-mirror-work-'),
        })
      )[0]!;
    const bytes = open.stats.bytesOut;
    const first = await runOnce();
    // On a mismatch, what the mirror said (why it left the in-process path) is in the failure.
    expect([first.status, first.base, first.base === 'direct' ? '' : logs.join('\n')]).toEqual([
      'mirrored',
      'direct',
      '',
    ]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
    const firstBytes = open.stats.bytesOut - bytes;
    return { ...s, runOnce, logs, firstBytes };
  }
  const requestsSince = (server: GitHttpServer, start: number, prefix: string) =>
    server.requests
      .slice(start)
      .filter((r) => r.path.startsWith(prefix))
      .map(
        (r) =>
          `${r.method} ${r.path.replace(/^\/\w+\/[^/]+/, '')}${r.service ? `?${r.service}` : ''}`,
      );

  /**
   * Since those request counts: the listing and the fetch at the source, the advertisement and
   * the push at the destination, and nothing else; the source never sees the token.
   */
  const expectOnlyTheRelay = (fromSource: number, toDestination: number) => {
    expect(requestsSince(open, fromSource, '/opendev/')).toEqual([
      'POST /git-upload-pack',
      'POST /git-upload-pack',
    ]);
    expect(open.requests.slice(fromSource).some((r) => r.sentAuth)).toBe(false);
    expect(requestsSince(http, toDestination, '/github/')).toEqual([
      'GET /info/refs?git-receive-pack',
      'POST /git-receive-pack',
    ]);
    expect(http.requests.slice(toDestination).every((r) => r.authorised)).toBe(true);
  };

  it('relays a change straight from the source to the destination: four requests, no copy, no token to the source, every shape a fast-forward or a cut', async () => {
    const s = await relayed();
    addCommits(s.upstream, 'master', 2);
    addCommits(s.upstream, 'stable/2025.1', 1);
    const stable = git(s.upstream, ['rev-parse', 'refs/heads/stable/2025.1']).trim();
    git(s.upstream, ['update-ref', 'refs/heads/unmaintained/2025.1', stable]);
    git(s.upstream, ['tag', '-a', '-m', 'eol', '2025.1-eol', stable]);
    git(s.upstream, ['tag', '32.0.0', 'refs/heads/master']);
    git(s.upstream, ['update-ref', '-d', 'refs/heads/unmaintained/2024.1']);
    const [fromSource, toDestination] = [open.requests.length, http.requests.length];
    const bytes = open.stats.bytesOut;
    const work = tempDir('osa-mirror-work-');
    const result = (
      await mirrorAll({
        ...s.options({ log: (_slug, message) => s.logs.push(message) }),
        pairs: parseMirrorPairs(
          `${open.url}/opendev/${s.name}.git -> ${http.url}/github/${s.name}.git`,
        ),
        workDir: work,
      })
    )[0]!;
    expect(result.error).toBeUndefined();
    expect([result.status, result.base, result.fetched]).toEqual(['mirrored', 'direct', true]);
    expect(s.logs.join('\n')).not.toMatch(/through git/);
    expect(names(result.created).sort()).toEqual([
      'refs/heads/unmaintained/2025.1',
      'refs/tags/2025.1-eol',
      'refs/tags/32.0.0',
    ]);
    expect(result.updated.map((c) => [c.ref, c.forced])).toEqual([
      ['refs/heads/master', false],
      ['refs/heads/stable/2025.1', false],
    ]);
    expect(names(result.deleted)).toEqual(['refs/heads/unmaintained/2024.1']);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
    expect(() =>
      git(s.destination, ['fsck', '--connectivity-only', '--no-dangling']),
    ).not.toThrow();
    expectOnlyTheRelay(fromSource, toDestination);
    // Only what is new came from the source (the cut at the tip costs nothing), and no copy stays.
    expect(open.stats.bytesOut - bytes).toBeLessThan(s.firstBytes / 20);
    expect(readdirSync(work)).toEqual([]);
  });

  it('spools a first mirror to a file, checked, and pushes it from there without a pause; nothing stays on the runner', async () => {
    const s = scenario();
    addCommits(s.upstream, 'master', 200);
    const [fromSource, toDestination] = [open.requests.length, http.requests.length];
    const work = tempDir('osa-mirror-work-');
    const logs: string[] = [];
    const [result] = await mirrorAll({
      ...s.options({ log: (_slug, message) => logs.push(message) }),
      pairs: parseMirrorPairs(
        `${open.url}/opendev/${s.name}.git -> ${http.url}/github/${s.name}.git`,
      ),
      workDir: work,
    });
    expect(logs).toEqual([]);
    expect([result!.status, result!.base, result!.fetched]).toEqual(['mirrored', 'direct', true]);
    expect(result!.created).toHaveLength(6);
    expect(Object.keys(result!.phases)).toEqual(['list', 'fetch', 'push']);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
    expect(() =>
      git(s.destination, ['fsck', '--connectivity-only', '--no-dangling']),
    ).not.toThrow();
    expectOnlyTheRelay(fromSource, toDestination);
    expect(readdirSync(work)).toEqual([]);
  });

  it('lands nothing when the source dies in the middle of a relayed first mirror, and the next run mirrors it all', async () => {
    const s = scenario();
    addCommits(s.upstream, 'master', 400);
    const pairs = parseMirrorPairs(
      `${open.url}/opendev/${s.name}.git -> ${http.url}/github/${s.name}.git`,
    );
    const logs: string[] = [];
    const pushes = pushesTo(s.name);
    open.faults.breakUploadPackAfter = 20000;
    try {
      const [result] = await mirrorAll({
        ...s.options({ log: (_slug, message) => logs.push(message) }),
        pairs,
        workDir: tempDir('osa-mirror-work-'),
      });
      expect(result!.status).toBe('failed');
      expect(result!.error).toMatch(/fetch from .* failed, nothing pushed/);
    } finally {
      open.faults.breakUploadPackAfter = null;
    }
    // The spooled fetch was cut short, so no push was opened (git's own try failed as well).
    expect(logs.join('\n')).toMatch(/fetch in-process: .*; listing afresh through git/);
    expect(pushesTo(s.name)).toBe(pushes);
    expect(refsOf(s.destination)).toBe('');
    const [healthy] = await mirrorAll({
      ...s.options(),
      pairs,
      workDir: tempDir('osa-mirror-work-'),
    });
    expect([healthy!.status, healthy!.base]).toEqual(['mirrored', 'direct']);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  /** A first mirror whose source resets its next `resets` requests: the result, log and requests. */
  async function mirrorThroughResets(resets: number) {
    const s = scenario();
    const logs: string[] = [];
    const before = open.requests.length;
    open.faults.resetRequests = resets;
    try {
      const [result] = await mirrorAll({
        ...s.options({ log: (_slug, message) => logs.push(message) }),
        pairs: parseMirrorPairs(
          `${open.url}/opendev/${s.name}.git -> ${http.url}/github/${s.name}.git`,
        ),
        workDir: tempDir('osa-mirror-work-'),
      });
      return { s, result: result!, log: logs.join('\n'), seen: open.requests.slice(before) };
    } finally {
      open.faults.resetRequests = 0;
    }
  }

  it('sends a read once more on a new connection when the source resets it, as git does (a kept-alive connection closed as it was reused)', async () => {
    const { s, result, log, seen } = await mirrorThroughResets(1);
    expect([result.status, result.base]).toEqual(['mirrored', 'direct']);
    // Not left to git: the first request (the listing's POST), reset, and the same one again.
    expect(log).not.toMatch(/through git/);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      path: `/opendev/${s.name}.git/git-upload-pack`,
    });
    expect(seen[1]).toEqual(seen[0]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('sends it once more only: a source that resets it again is left to git', async () => {
    const { s, result, log, seen } = await mirrorThroughResets(2);
    expect(result.status).toBe('mirrored');
    expect(log).toMatch(/listing through git \(127\.0\.0\.1:\d+: ECONNRESET\)/);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).not.toEqual(seen[0]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('holds the pack’s checksum back until the source’s response has ended as it should', async () => {
    const s = scenario();
    addCommits(s.upstream, 'master', 200);
    const url = `${open.url}/opendev/${s.name}.git`;
    const logs: string[] = [];
    // The source sends every byte of its pack, then dies before its response's closing flush.
    open.faults.dropFetchEnd = true;
    try {
      await mirrorAll({
        ...s.options({ log: (_slug, message) => logs.push(message) }),
        pairs: parseMirrorPairs(`${url} -> ${http.url}/github/${s.name}.git`),
        workDir: tempDir('osa-mirror-work-'),
      });
    } finally {
      open.faults.dropFetchEnd = false;
    }
    // The destination never had a whole pack from the relay: the fresh listing found nothing.
    expect(logs.join('\n')).toMatch(/fetch in-process: .*; listing afresh through git/);
    expect(logs.join('\n')).not.toMatch(/has the change all the same/);
    expect(refsOf(s.destination)).toBe('');
  });

  it('renames a branch a to a/b (one atomic push cannot): git lands it in two, and reports both as landed', async () => {
    const s = await relayed();
    addCommits(s.upstream, 'a', 2, { from: 'refs/heads/master' });
    for (let i = 0; i < 6; i++) addCommits(s.upstream, `b${i}`, 1, { from: 'refs/heads/master' });
    expect((await s.runOnce()).status).toBe('mirrored');
    const a = git(s.upstream, ['rev-parse', 'refs/heads/a']).trim();
    git(s.upstream, ['update-ref', '-d', 'refs/heads/a']);
    git(s.upstream, ['update-ref', 'refs/heads/a/b', a]);
    addCommits(s.upstream, 'a/b', 1);
    const result = await s.runOnce();
    expect(s.logs.join('\n')).toMatch(/mirroring through git/);
    expect([result.status, result.rejected]).toEqual(['mirrored', []]);
    expect(names(result.created)).toEqual(['refs/heads/a/b']);
    expect(names(result.deleted)).toEqual(['refs/heads/a']);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('leaves to git what the pack cannot prove: a rewind goes through git and is counted destructive', async () => {
    const s = await relayed();
    addCommits(s.upstream, 'master', 1);
    git(s.upstream, ['update-ref', 'refs/heads/stable/2025.1', 'refs/heads/stable/2025.1~1']);
    const result = await s.runOnce();
    expect(s.logs.join('\n')).toMatch(
      /refs\/heads\/stable\/2025\.1 is not shown a fast-forward by the pack; mirroring through git/,
    );
    expect([result.status, result.base]).toEqual(['mirrored', 'destination']);
    expect(result.updated.map((c) => [c.ref, c.forced])).toEqual([
      ['refs/heads/master', false],
      ['refs/heads/stable/2025.1', true],
    ]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('is refused whole when the destination refuses one ref, and git then finds it and lands the rest', async () => {
    const s = await relayed();
    installHook(
      s.destination,
      'update',
      '#!/bin/sh\ncase "$1" in refs/heads/stable/2025.1) echo "protected branch" >&2; exit 1;; esac\nexit 0\n',
    );
    addCommits(s.upstream, 'master', 1);
    addCommits(s.upstream, 'stable/2025.1', 1);
    const before = git(s.destination, ['rev-parse', 'refs/heads/stable/2025.1']).trim();
    const result = await s.runOnce();
    expect(s.logs.join('\n')).toMatch(
      /the destination refused refs\/heads\/stable\/2025\.1 .*; listing afresh through git/,
    );
    expect(result.status).toBe('partial');
    expect(result.rejected).toEqual([
      { ref: 'refs/heads/stable/2025.1', reason: expect.stringMatching(/hook declined/) },
    ]);
    expect(names(result.updated)).toEqual(['refs/heads/master']);
    expect(git(s.destination, ['rev-parse', 'refs/heads/master']).trim()).toBe(
      git(s.upstream, ['rev-parse', 'refs/heads/master']).trim(),
    );
    expect(git(s.destination, ['rev-parse', 'refs/heads/stable/2025.1']).trim()).toBe(before);
  });

  it('refuses a destructive run before it pushes, as git’s path does', async () => {
    const s = await relayed();
    for (const ref of ['stable/2025.1', 'stable/2024.2', 'unmaintained/2024.1'])
      git(s.upstream, ['update-ref', '-d', `refs/heads/${ref}`]);
    const before = refsOf(s.destination);
    const pushes = pushesTo(s.name);
    const result = await s.runOnce();
    expect([result.status, result.base]).toEqual(['refused', 'direct']);
    expect(result.error).toMatch(/would delete or force-update 3 of 6 refs \(limit 2\)/);
    expect(pushesTo(s.name)).toBe(pushes);
    expect(refsOf(s.destination)).toBe(before);
    // With a new commit as well, the pack is fetched and judged before any push is opened.
    addCommits(s.upstream, 'master', 1);
    const cut = await s.runOnce();
    expect([cut.status, cut.base]).toEqual(['refused', 'direct']);
    expect(pushesTo(s.name)).toBe(pushes);
    expect(refsOf(s.destination)).toBe(before);
    // Allowed, it lands.
    const allowed = await s.runOnce({ allowDestructive: true });
    expect([allowed.status, allowed.base, allowed.fetched]).toEqual(['mirrored', 'direct', true]);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('creates a branch and a tag at ids the destination holds with an empty pack, fetching nothing', async () => {
    const s = await relayed();
    const stable = git(s.upstream, ['rev-parse', 'refs/heads/stable/2025.1']).trim();
    git(s.upstream, ['update-ref', 'refs/heads/unmaintained/2025.1', stable]);
    git(s.upstream, ['update-ref', 'refs/tags/light', stable]);
    const fetches = open.requests.length;
    const result = await s.runOnce();
    expect([result.status, result.base, result.fetched]).toEqual(['mirrored', 'direct', false]);
    expect(names(result.created)).toEqual(['refs/heads/unmaintained/2025.1', 'refs/tags/light']);
    // The listing only: nothing was asked of the source beyond it.
    expect(open.requests.length - fetches).toBe(1);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('carries deletions alone without a pack, judged before anything is sent', async () => {
    const s = await relayed();
    git(s.upstream, ['update-ref', '-d', 'refs/heads/unmaintained/2024.1']);
    const result = await s.runOnce();
    expect([result.status, result.base, result.fetched]).toEqual(['mirrored', 'direct', false]);
    expect(names(result.deleted)).toEqual(['refs/heads/unmaintained/2024.1']);
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });

  it('goes through git when git would reach the hosts another way (a proxy set)', async () => {
    const s = await relayed();
    addCommits(s.upstream, 'master', 1);
    const saved = { ...process.env };
    // A proxy git is told to bypass for 127.0.0.1; this process's client would not know that.
    Object.assign(process.env, { https_proxy: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' });
    try {
      const result = await s.runOnce();
      expect([result.status, result.base]).toEqual(['mirrored', 'destination']);
    } finally {
      for (const key of ['https_proxy', 'NO_PROXY']) delete process.env[key];
      Object.assign(process.env, saved);
    }
    expect(refsOf(s.destination)).toBe(refsOf(s.upstream));
  });
});
