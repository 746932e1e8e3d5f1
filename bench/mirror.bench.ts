// Mirror benchmark: our incremental mirror against the naive `git clone --mirror && git push
// --mirror` that popular mirroring actions run on every (ephemeral) runner.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCommits, git, initBare } from '../scripts/lib/git-fixtures.mjs';
import { DirectoryStore } from '../src/mirror/dir-store.js';
import { mirrorAll } from '../src/mirror/mirror.js';
import { parseMirrorPairs, parseRefFilter } from '../src/mirror/spec.js';
import { startServerProcess } from './server.js';

export interface Measure {
  readonly seconds: number;
  readonly bytes: number;
  /** CPU seconds the git server (its process and its git children) used during the run. */
  readonly serverCpu: number;
  /** Where our run's time went (ms per phase), from the mirror's own result. */
  readonly phases?: Readonly<Record<string, number>>;
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
function generate(dir: string, commits = COMMITS, branches = BRANCHES, tags = TAGS): void {
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
  for (let i = 1; i <= commits; i++) {
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
  for (let b = 0; b < branches; b++) {
    const from = Math.max(1, Math.floor(((b + 1) * commits) / (branches + 1)));
    chunks.push(
      `commit refs/heads/stable/s${b}\ncommitter b <b@example.invalid> ${time++} +0000\ndata 6\nstable\nfrom :${from}\nM 100644 inline STABLE\ndata ${String(b).length + 1}\n${b}\n\n`,
    );
  }
  for (let t = 0; t < tags; t++) {
    chunks.push(
      `tag ${t}.0.0\nfrom :${Math.max(1, Math.floor(((t + 1) * commits) / (tags + 1)))}\ntagger b <b@example.invalid> ${time++} +0000\ndata 7\nrelease\n`,
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

/** The incremental run at the default size and at 4x the commits, ours only (loopback): medians of three. */
export interface ScaleBench {
  readonly commits: [number, number];
  readonly seconds: [number, number];
  readonly phases: [Readonly<Record<string, number>>, Readonly<Record<string, number>>];
  readonly bytes: [number, number];
}

/** A fleet of 30 repositories, 2 changed, mirrored in one run over the simulated link. */
export interface FleetBench {
  readonly repos: number;
  readonly changed: number;
  readonly ours: number;
  readonly naive: number;
  readonly largestAlone: number;
  /** The three slowest repositories of the fleet run, with their phases. */
  readonly slowest: string[];
  /**
   * CPU seconds the git server (its own process, and http-backend, upload-pack and receive-pack
   * under it) used during our fleet run, and the cores it shares with it: its CPU over the cores
   * is a floor under the run's time on this machine.
   */
  readonly serverCpu: number;
  /** CPU seconds of this process (ours) during the run. */
  readonly ownCpu: number;
  readonly cores: number;
  /**
   * A model, not the measure the target is set on: ours only, the largest alone, the two changed
   * repositories alone, and the fleet, medians of three, with listings of repositories unchanged
   * since the last run answered by the stand-in from git's recorded answer (`replayListings`),
   * so those cost the link's latency and no server time at all; the changed sources' listings,
   * and every fetch and push, run live on this machine.
   */
  readonly remote: {
    readonly ours: number;
    readonly largestAlone: number;
    /** The two changed repositories alone, with their changes. */
    readonly changedAlone: number;
    readonly replayed: number;
    readonly serverCpu: number;
    readonly slowest: string[];
  };
}

/** The middle of three runs by time. */
function median<T extends { seconds: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[1]!;
}

/** The simulated link: a hosted runner fetching from opendev and pushing to GitHub. */
export const LINK = {
  bytesPerSecond: Number(process.env.BENCH_LINK_MBIT ?? 100) * 125000,
  latencyMs: Number(process.env.BENCH_LINK_LATENCY_MS ?? 20),
};

/** The mirror benchmark; with BENCH_FLEET_ONLY set, only the fleet case (to look into it alone). */
export async function benchMirror(): Promise<{
  scenarios: MirrorBench[];
  scale: ScaleBench | null;
  fleet: FleetBench;
}> {
  const root = mkdtempSync(join(tmpdir(), 'osa-bench-mirror-'));
  const upstream = join(root, 'opendev/nova.git');
  const started = Date.now();
  generate(upstream);
  const size = git(upstream, ['count-objects', '-vH']).match(/size-pack: (.*)/)?.[1];
  console.log(
    `generated ${COMMITS} commits, ${BRANCHES} branches, ${TAGS} tags (${size} packed) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const results: MirrorBench[] = [];
  if (process.env.BENCH_FLEET_ONLY) {
    const fleet = await fleetCase(root, upstream);
    rmSync(root, { recursive: true, force: true });
    return { scenarios: [], scale: null, fleet };
  }
  for (const [label, link] of [
    ['loopback (no network cost)', undefined],
    [`link: ${LINK.bytesPerSecond / 125000} Mbit/s, ${LINK.latencyMs} ms per request`, LINK],
  ] as const) {
    results.push({
      label,
      rows: await scenario(root, upstream, label.split(' ')[0]!.replace(':', ''), link),
    });
  }
  const scale = await scaleCase(root, upstream);
  const fleet = await fleetCase(root, upstream);
  rmSync(root, { recursive: true, force: true });
  return { scenarios: results, scale, fleet };
}

/** One run of ours, as a fresh runner: an empty work dir, the store given. */
async function oursOnce(
  pairs: string,
  work: string,
  store: DirectoryStore,
  concurrency = 4,
): Promise<{ seconds: number; phases: Record<string, number>; slowest: string[] }> {
  rmSync(work, { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  const results = await mirrorAll({
    pairs: parseMirrorPairs(pairs),
    filter: parseRefFilter([]),
    concurrency,
    maxDestructiveFraction: 0.1,
    allowDestructive: false,
    workDir: work,
    store,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const phases: Record<string, number> = {};
  for (const result of results) {
    if (!['mirrored', 'unchanged'].includes(result.status))
      throw new Error(`mirror ${result.slug}: ${result.status} ${result.error}`);
    for (const [phase, ms] of Object.entries(result.phases))
      phases[phase] = (phases[phase] ?? 0) + ms;
  }
  const slowest = [...results]
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, 3)
    .map(
      (r) =>
        `${r.slug} ${(r.durationMs / 1000).toFixed(2)} s (${Object.entries(r.phases)
          .map(([p, ms]) => `${p} ${(ms / 1000).toFixed(2)}`)
          .join(', ')})`,
    );
  return { seconds, phases, slowest };
}

/** A destination equal to the source, made locally (not measured). */
function seed(source: string, destination: string): void {
  initBare(destination);
  git(source, ['push', '--quiet', '--mirror', destination]);
}

async function scaleCase(root: string, nova: string): Promise<ScaleBench> {
  const commits = COMMITS * 4;
  const upstream = join(root, 'opendev/nova-4x.git');
  const started = Date.now();
  generate(upstream, commits);
  const size = git(upstream, ['count-objects', '-vH']).match(/size-pack: (.*)/)?.[1];
  console.log(
    `generated ${commits} commits (${size} packed) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  seed(upstream, join(root, 'github/nova-4x.git'));
  seed(nova, join(root, 'github/nova-1x.git'));
  const server = await startServerProcess({ root });
  // Both sizes measured alike, on one server: a no-op run first (not measured), then three
  // incremental runs of the same change; the median is kept.
  const measure = async (source: string, name: string) => {
    const pair = `${server.url}/opendev/${source} -> ${server.url}/github/${name}`;
    const work = join(root, `work-${name}`);
    const store = new DirectoryStore(join(root, `store-${name}`));
    await oursOnce(pair, work, store);
    const runs: { seconds: number; phases: Record<string, number>; bytes: number }[] = [];
    for (let round = 0; round < 3; round++) {
      for (const branch of ['master', `stable/s10`, `stable/s200`])
        addCommits(join(root, 'opendev', source), branch, branch === 'master' ? 4 : 3);
      const { result: run, bytes } = await server.during(() => oursOnce(pair, work, store));
      runs.push({ ...run, bytes });
    }
    return median(runs);
  };
  const small = await measure('nova.git', 'nova-1x.git');
  const large = await measure('nova-4x.git', 'nova-4x.git');
  await server.stop();
  return {
    commits: [COMMITS, commits],
    seconds: [small.seconds, large.seconds],
    phases: [small.phases, large.phases],
    bytes: [small.bytes, large.bytes],
  };
}

/**
 * 30 repositories sized like OpenStack's (one nova-sized, three large, the rest small), two of
 * them changed, over the simulated link: our one run of the fleet against the naive way (the same
 * four at a time) and against our run of the largest repository alone.
 */
async function fleetCase(root: string, nova: string): Promise<FleetBench> {
  const started = Date.now();
  const repos: string[] = [nova];
  for (let i = 0; i < 29; i++) {
    const dir = join(root, `opendev/fleet-${i}.git`);
    generate(dir, i < 3 ? COMMITS / 5 : COMMITS / 50, i < 3 ? 40 : 8, i < 3 ? 40 : 8);
    repos.push(dir);
  }
  const name = (dir: string) => dir.slice(join(root, 'opendev').length + 1);
  for (const dir of repos) {
    seed(dir, join(root, 'github', `fleet-ours-${name(dir)}`));
    seed(dir, join(root, 'github', `fleet-naive-${name(dir)}`));
  }
  console.log(
    `fleet of ${repos.length} generated in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const server = await startServerProcess({ root, link: LINK });
  const pair = (dir: string) =>
    `${server.url}/opendev/${name(dir)} -> ${server.url}/github/fleet-ours-${name(dir)}`;
  const store = new DirectoryStore(join(root, 'store-fleet'));
  // Three rounds of the largest alone, with the change it carries in the fleet run too, and the
  // fleet with two changes; the median of each is kept, with the CPU of the fleet's median run.
  const alones: Awaited<ReturnType<typeof oursOnce>>[] = [];
  const fleets: (Awaited<ReturnType<typeof oursOnce>> & { serverCpu: number; ownCpu: number })[] =
    [];
  for (let round = 0; round < 3; round++) {
    addCommits(nova, 'master', 5);
    alones.push(await oursOnce(pair(nova), join(root, 'work-fleet'), store));
    addCommits(nova, 'master', 5);
    addCommits(repos[10]!, 'master', 3);
    const own = process.cpuUsage();
    const { result: run, cpu } = await server.during(() =>
      oursOnce(repos.map(pair).join('\n'), join(root, 'work-fleet'), store),
    );
    const { user, system } = process.cpuUsage(own);
    fleets.push({ ...run, serverCpu: cpu, ownCpu: (user + system) / 1e6 });
  }
  const alone = median(alones);
  const ours = median(fleets);
  const t0 = process.hrtime.bigint();
  const queue = [...repos];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let dir = queue.shift(); dir; dir = queue.shift()) {
        const clone = join(root, `naive-fleet-${name(dir)}`);
        await run(root, [
          'clone',
          '--quiet',
          '--mirror',
          `${server.url}/opendev/${name(dir)}`,
          clone,
        ]);
        await run(clone, [
          'push',
          '--quiet',
          '--mirror',
          `${server.url}/github/fleet-naive-${name(dir)}`,
        ]);
        rmSync(clone, { recursive: true, force: true });
      }
    }),
  );
  const naive = Number(process.hrtime.bigint() - t0) / 1e9;
  await server.stop();
  const mirrored = (what: string, sides: string[]) => {
    for (const dir of repos)
      for (const side of sides)
        if (
          git(dir, ['for-each-ref']) !==
          git(join(root, 'github', `fleet-${side}-${name(dir)}`), ['for-each-ref'])
        )
          throw new Error(
            `fleet (${what}): ${side} ${name(dir)} does not equal its upstream: the benchmark is invalid`,
          );
  };
  mirrored('live', ['ours', 'naive']);
  const remote = await remoteFleet(root, repos, store, name);
  // The naive destinations were not mirrored again: only ours are checked after.
  mirrored('replayed listings', ['ours']);
  return {
    repos: repos.length,
    changed: 2,
    ours: ours.seconds,
    naive,
    largestAlone: alone.seconds,
    slowest: ours.slowest,
    serverCpu: ours.serverCpu,
    ownCpu: ours.ownCpu,
    cores: availableParallelism(),
    remote,
  };
}

/**
 * The fleet's runs again, modelling servers whose CPU is not this machine's (see
 * FleetBench.remote): three rounds of the largest alone, the two changed repositories alone, and
 * the fleet, each set up alike. Before each measured run, a run over the whole fleet (not
 * measured) records every listing as it stands; then the change is made, so in every measured
 * run the changed sources' listings run live and every other listing is replayed. Medians of
 * three.
 */
async function remoteFleet(
  root: string,
  repos: string[],
  store: DirectoryStore,
  name: (dir: string) => string,
): Promise<FleetBench['remote']> {
  const server = await startServerProcess({ root, link: LINK, replayListings: true });
  const pair = (dir: string) =>
    `${server.url}/opendev/${name(dir)} -> ${server.url}/github/fleet-ours-${name(dir)}`;
  const work = join(root, 'work-fleet-remote');
  const fleet = repos.map(pair).join('\n');
  const [largest, other] = [repos[0]!, repos[10]!];
  const measure = async (pairs: string, changed: string[]) => {
    await oursOnce(fleet, work, store);
    for (const dir of changed) addCommits(dir, 'master', dir === largest ? 5 : 3);
    const { result: run, replayed, cpu } = await server.during(() => oursOnce(pairs, work, store));
    return { ...run, replayed, serverCpu: cpu };
  };
  const rounds: Awaited<ReturnType<typeof measure>>[][] = [[], [], []];
  for (let round = 0; round < 3; round++) {
    rounds[0]!.push(await measure(pair(largest), [largest]));
    rounds[1]!.push(await measure([largest, other].map(pair).join('\n'), [largest, other]));
    rounds[2]!.push(await measure(fleet, [largest, other]));
  }
  await server.stop();
  const [alone, changedAlone, ours] = rounds.map(median);
  return {
    ours: ours!.seconds,
    largestAlone: alone!.seconds,
    changedAlone: changedAlone!.seconds,
    replayed: ours!.replayed,
    serverCpu: ours!.serverCpu,
    slowest: ours!.slowest,
  };
}

async function scenario(
  root: string,
  upstream: string,
  tag: string,
  link: { bytesPerSecond: number; latencyMs: number } | undefined,
): Promise<{ name: string; ours: Measure; naive: Measure }[]> {
  const server = await startServerProcess({ root, link });
  const oursDest = initBare(join(root, `github/ours-${tag}.git`));
  const naiveDest = initBare(join(root, `github/naive-${tag}.git`));
  const work = join(root, `work-${tag}`);
  const store = new DirectoryStore(join(root, `store-${tag}`));
  const measure = async (fn: () => Promise<Record<string, number> | void>): Promise<Measure> => {
    const { result, bytes, cpu } = await server.during(async () => {
      const t0 = process.hrtime.bigint();
      const phases = await fn();
      return { phases, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    });
    return {
      seconds: result.seconds,
      bytes,
      serverCpu: cpu,
      ...(result.phases ? { phases: result.phases } : {}),
    };
  };
  const oursRun = () =>
    measure(
      async () =>
        (
          await oursOnce(
            `${server.url}/opendev/nova.git -> ${server.url}/github/ours-${tag}.git`,
            work,
            store,
            1,
          )
        ).phases,
    );
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
  // The incremental run three times, each with its own change; each side's median is kept (one
  // sample of either on a shared machine is noise as much as measure).
  const ours: Measure[] = [];
  const naive: Measure[] = [];
  for (let round = 0; round < 3; round++) {
    for (const branch of ['master', `stable/s10`, `stable/s200`])
      addCommits(upstream, branch, branch === 'master' ? 4 : 3);
    ours.push(await oursRun());
    naive.push(await naiveRun());
  }
  rows.push({
    name: '10 new commits on 3 branches',
    ours: median(ours),
    naive: median(naive),
  });
  const want = git(upstream, ['for-each-ref']);
  if (git(oursDest, ['for-each-ref']) !== want || git(naiveDest, ['for-each-ref']) !== want) {
    throw new Error('a destination does not equal the upstream: the benchmark is invalid');
  }
  await server.stop();
  return rows;
}
