// Mirror benchmark: our incremental mirror against the naive `git clone --mirror && git push
// --mirror` that popular mirroring actions run on every (ephemeral) runner.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCommits, git, initBare } from '../scripts/lib/git-fixtures.mjs';
import { startGitHttpServer } from '../scripts/lib/git-http-server.mjs';
import { DirectoryStore } from '../src/mirror/dir-store.js';
import { mirrorAll } from '../src/mirror/mirror.js';
import { parseMirrorPairs, parseRefFilter } from '../src/mirror/spec.js';

export interface Measure {
  readonly seconds: number;
  readonly bytes: number;
}

// Defaults sized like an OpenStack service repo (nova has more): override with BENCH_* variables.
const COMMITS = Number(process.env.BENCH_COMMITS ?? 50000);
const BRANCHES = Number(process.env.BENCH_BRANCHES ?? 300);
const TAGS = Number(process.env.BENCH_TAGS ?? 300);

/**
 * A repository with COMMITS commits on master, BRANCHES branches and TAGS annotated tags, shaped
 * like a real project: 20 directories of 20 files of 40 lines, each commit editing a few lines of
 * one file (so history deltifies as real code does).
 */
function generate(dir: string): void {
  initBare(dir);
  let seed = 42;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const word = (): string =>
    Math.floor(random() * 0xffffffffff)
      .toString(16)
      .padStart(10, '0');
  const files = Array.from({ length: 400 }, () =>
    Array.from({ length: 40 }, () => `    value = compute(${word()}, ${word()})  # ${word()}`),
  );
  const chunks: string[] = [];
  let time = 1400000000;
  for (let i = 1; i <= COMMITS; i++) {
    const f = Math.floor(random() * files.length);
    const lines = files[f]!;
    for (let k = 0; k < 3; k++)
      lines[Math.floor(random() * lines.length)] =
        `    value = compute(${word()}, ${word()})  # change ${i}`;
    const content = `${lines.join('\n')}\n`;
    const message = `Change ${i}: update module ${f}\n\nChange-Id: I${word()}${word()}${word()}${word()}\n`;
    chunks.push(
      `commit refs/heads/master\nmark :${i}\ncommitter b <b@example.invalid> ${time++} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n` +
        `M 100644 inline pkg${Math.floor(f / 20)}/module${f % 20}.py\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
  }
  for (let b = 0; b < BRANCHES; b++) {
    const from = Math.max(1, Math.floor(((b + 1) * COMMITS) / (BRANCHES + 1)));
    chunks.push(
      `commit refs/heads/stable/s${b}\ncommitter b <b@example.invalid> ${time++} +0000\ndata 6\nstable\nfrom :${from}\nM 100644 inline STABLE\ndata ${String(b).length + 1}\n${b}\n\n`,
    );
  }
  for (let t = 0; t < TAGS; t++) {
    chunks.push(
      `tag ${t}.0.0\nfrom :${Math.max(1, Math.floor(((t + 1) * COMMITS) / (TAGS + 1)))}\ntagger b <b@example.invalid> ${time++} +0000\ndata 7\nrelease\n`,
    );
  }
  git(dir, ['fast-import', '--quiet'], chunks.join(''));
  git(dir, ['gc', '--quiet']);
}

function run(cwd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`git ${args.join(' ')}: ${err}`)),
    );
  });
}

export interface MirrorBench {
  readonly label: string;
  readonly rows: { name: string; ours: Measure; naive: Measure }[];
}

/** The simulated link: a hosted runner fetching from opendev and pushing to GitHub. */
export const LINK = {
  bytesPerSecond: Number(process.env.BENCH_LINK_MBIT ?? 100) * 125000,
  latencyMs: Number(process.env.BENCH_LINK_LATENCY_MS ?? 20),
};

export async function benchMirror(): Promise<MirrorBench[]> {
  const root = mkdtempSync(join(tmpdir(), 'osa-bench-mirror-'));
  const upstream = join(root, 'opendev/nova.git');
  const started = Date.now();
  generate(upstream);
  const size = git(upstream, ['count-objects', '-vH']).match(/size-pack: (.*)/)?.[1];
  console.log(
    `generated ${COMMITS} commits, ${BRANCHES} branches, ${TAGS} tags (${size} packed) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const results: MirrorBench[] = [];
  for (const [label, link] of [
    ['loopback (no network cost)', undefined],
    [`link: ${LINK.bytesPerSecond / 125000} Mbit/s, ${LINK.latencyMs} ms per request`, LINK],
  ] as const) {
    results.push({
      label,
      rows: await scenario(root, upstream, label.split(' ')[0]!.replace(':', ''), link),
    });
  }
  rmSync(root, { recursive: true, force: true });
  return results;
}

async function scenario(
  root: string,
  upstream: string,
  tag: string,
  link: { bytesPerSecond: number; latencyMs: number } | undefined,
): Promise<{ name: string; ours: Measure; naive: Measure }[]> {
  const server = await startGitHttpServer({ root, link });
  const oursDest = initBare(join(root, `github/ours-${tag}.git`));
  const naiveDest = initBare(join(root, `github/naive-${tag}.git`));
  const work = join(root, `work-${tag}`);
  const store = new DirectoryStore(join(root, `store-${tag}`));
  const measure = async (fn: () => Promise<unknown>): Promise<Measure> => {
    const before = server.stats.bytesIn + server.stats.bytesOut;
    const t0 = process.hrtime.bigint();
    await fn();
    return {
      seconds: Number(process.hrtime.bigint() - t0) / 1e9,
      bytes: server.stats.bytesIn + server.stats.bytesOut - before,
    };
  };
  const oursRun = () =>
    measure(async () => {
      // Every run is a fresh runner: the work dir is gone, only the stored copy comes back.
      rmSync(work, { recursive: true, force: true });
      const [result] = await mirrorAll({
        pairs: parseMirrorPairs(
          `${server.url}/opendev/nova.git -> ${server.url}/github/ours-${tag}.git`,
        ),
        filter: parseRefFilter([]),
        concurrency: 1,
        maxDestructiveFraction: 0.1,
        allowDestructive: false,
        workDir: work,
        store,
      });
      if (!result || !['mirrored', 'unchanged'].includes(result.status))
        throw new Error(`mirror: ${result?.status} ${result?.error}`);
    });
  // What the popular actions do, on a fresh runner every time.
  const naiveRun = () =>
    measure(async () => {
      const clone = join(root, `naive-${tag}-${Date.now()}.git`);
      await run(root, ['clone', '--quiet', '--mirror', `${server.url}/opendev/nova.git`, clone]);
      await run(clone, ['push', '--quiet', '--mirror', `${server.url}/github/naive-${tag}.git`]);
      rmSync(clone, { recursive: true, force: true });
    });
  const rows = [];
  rows.push({ name: 'first mirror', ours: await oursRun(), naive: await naiveRun() });
  rows.push({ name: 'no-op run', ours: await oursRun(), naive: await naiveRun() });
  for (const branch of ['master', `stable/s10`, `stable/s200`])
    addCommits(upstream, branch, branch === 'master' ? 4 : 3);
  rows.push({
    name: '10 new commits on 3 branches',
    ours: await oursRun(),
    naive: await naiveRun(),
  });
  const want = git(upstream, ['for-each-ref']);
  if (git(oursDest, ['for-each-ref']) !== want || git(naiveDest, ['for-each-ref']) !== want) {
    throw new Error('a destination does not equal the upstream: the benchmark is invalid');
  }
  await server.stop();
  return rows;
}
