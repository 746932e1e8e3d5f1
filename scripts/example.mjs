#!/usr/bin/env node
// The toolkit's whole pipeline on the bundled example, on this machine and without network:
//   npm run example [-- REF]        (REF defaults to stable/ocata; try master or stable/2025.1)
// mirror (twice: first, then incremental) -> constraints -> matrix -> build -> smoke-test plan ->
// publish (dry run), each the committed action bundle run as a runner would run it. Upstream
// (opendev), the GitHub destination and openstack/requirements are local git repositories served
// by git daemon on 127.0.0.1. Where snapcraft is not installed, builds use the test stand-in
// (test/standins/snapcraft) and say so; where LXD and the test images are there
// (bash scripts/setup.sh --system), arm64 is also built in an emulated container. What this machine
// cannot run is skipped with one line saying why and what would enable it.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRequirementsRepo, git, initBare, startGitDaemon } from './lib/git-fixtures.mjs';
import { lxdProblem, onPath, setupCommand } from './lib/setup-hint.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const ref = process.argv[2] ?? 'stable/ocata';
const work = mkdtempSync(join(tmpdir(), 'osa-example-'));
const summary = join(work, 'summary.md');
writeFileSync(summary, '');
const skipped = [];
/** One line for what this machine cannot run, and what would enable it. */
function skip(what, why, enable) {
  skipped.push(`${what}: ${why}${enable ? ` (${enable})` : ''}`);
  console.log(`\n--- skipped ${what}: ${why}${enable ? `; ${enable}` : ''}`);
}

// The run's event, as a runner gives it: a maintainer's dispatch in the upstream repository.
const eventFile = join(work, 'event.json');
writeFileSync(
  eventFile,
  JSON.stringify({ repository: { fork: false, full_name: 'openstack-snaps/snap-keystone' } }),
);
const realSnapcraft = onPath('snapcraft');
const standins = join(root, 'test/standins');
const env = {
  ...process.env,
  GITHUB_REF_NAME: ref,
  GITHUB_EVENT_NAME: 'workflow_dispatch',
  GITHUB_EVENT_PATH: eventFile,
  GITHUB_WORKSPACE: work,
  RUNNER_TEMP: join(work, 'runner-temp'),
  ...(realSnapcraft ? {} : { PATH: `${standins}${delimiter}${process.env.PATH}` }),
};

/** Runs an action's bundle with inputs, as a runner does; returns its outputs. */
function action(name, inputs, title, extraEnv = {}) {
  console.log(`\n=== ${title}`);
  const output = join(work, `${name}-${Math.random().toString(36).slice(2)}.out`);
  writeFileSync(output, '');
  const inputEnv = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
  );
  const run = spawnSync(process.execPath, [join(root, 'dist', name, 'index.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...env, ...extraEnv, ...inputEnv, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary },
    encoding: 'utf8',
  });
  // Runner commands (::group::, ::set-output) are for the runner; show the rest.
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('::error::'))
      console.log(`  ERROR: ${line.slice(9).replace(/%0A/g, '\n  ')}`);
    else if (line.startsWith('::warning::')) console.log(`  warning: ${line.slice(11)}`);
    else if (line && !line.startsWith('::')) console.log(`  ${line}`);
  }
  const outputs = Object.fromEntries(
    [...readFileSync(output, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)].map(
      ([, k, , v]) => [k, v],
    ),
  );
  if (run.status !== 0) {
    console.error(`${name} failed (exit ${run.status}); work directory: ${work}`);
    process.exit(run.status ?? 1);
  }
  return outputs;
}

// Everything git is served from 127.0.0.1: opendev's side, the GitHub side, openstack/requirements.
const served = join(work, 'git');
// openstack/requirements as OpenStack left it: stable/ocata deleted after its ocata-eol tag.
const history = [
  {
    name: 'ocata',
    key: 'ocata',
    branches: ['stable/ocata'],
    tags: ['ocata-eol'],
    deleted: ['stable/ocata'],
  },
  { name: 'epoxy', key: '2025.1', branches: ['stable/2025.1'], tags: [], deleted: [] },
];
buildRequirementsRepo(
  join(served, 'openstack/requirements'),
  history,
  join(root, 'examples/requirements'),
);

// The snap repo on "opendev": the bundled keystone snap on master and stable/ocata.
const upstreamWork = join(work, 'upstream-work');
initBare(join(served, 'opendev/x/snap-keystone.git'));
initBare(join(served, 'github/openstack-snaps/snap-keystone.git'));
cpSync(join(root, 'examples/snap-keystone'), upstreamWork, { recursive: true });
git(upstreamWork, ['init', '--quiet', '--initial-branch=master']);
git(upstreamWork, ['add', '-A']);
git(upstreamWork, ['commit', '--quiet', '-m', 'Keystone snap']);
git(upstreamWork, ['branch', 'stable/ocata']);
git(upstreamWork, ['commit', '--quiet', '--allow-empty', '-m', 'Start pike']);

const daemon = await startGitDaemon(served);
try {
  await pipeline();
} finally {
  await daemon.stop();
}

async function pipeline() {
  const upstream = `${daemon.url}/opendev/x/snap-keystone.git`;
  const destination = `${daemon.url}/github/openstack-snaps/snap-keystone.git`;
  git(upstreamWork, ['push', '--quiet', upstream, 'master', 'stable/ocata']);
  const mirrorInputs = {
    repos: `${upstream} -> ${destination}`,
    'cache-dir': join(work, 'mirror-cache'),
  };
  // Each run on a fresh runner (its own RUNNER_TEMP): the second begins from the destination.
  const freshRunner = (n) => ({ RUNNER_TEMP: join(work, `mirror-runner-${n}`) });
  const first = action(
    'mirror',
    mirrorInputs,
    'mirror: opendev -> GitHub (first run)',
    freshRunner(1),
  );
  console.log(`  -> ${describeChanges(first.changes)}`);

  // Upstream moves on: a fix on stable/ocata and a tag. The second run fetches only that.
  git(upstreamWork, ['checkout', '--quiet', 'stable/ocata']);
  writeFileSync(join(upstreamWork, 'NEWS'), 'Fix the keystone wsgi socket path\n');
  git(upstreamWork, ['add', 'NEWS']);
  git(upstreamWork, ['commit', '--quiet', '-m', 'Fix the keystone wsgi socket path']);
  git(upstreamWork, ['tag', '-a', '-m', 'ocata snap 11.0.4', '11.0.4']);
  git(upstreamWork, ['push', '--quiet', upstream, 'stable/ocata', '11.0.4']);
  const second = action(
    'mirror',
    mirrorInputs,
    'mirror: opendev -> GitHub (incremental run, a fresh runner)',
    freshRunner(2),
  );
  console.log(`  -> ${describeChanges(second.changes)}`);

  // The snap repo's pipeline runs on a checkout of the mirrored branch.
  const project = join(work, 'snap-keystone');
  const branch = ref === 'stable/ocata' ? ref : 'master';
  execFileSync('git', ['clone', '--quiet', '--branch', branch, destination, project]);

  const c = action(
    'constraints',
    { project, ref, 'requirements-repo': `${daemon.url}/openstack/requirements` },
    `constraints: ${ref}`,
  );
  console.log(
    `  -> series ${c.series}, track ${c.track}, openstack/requirements ${c['constraints-ref']} @ ${c['constraints-commit'].slice(0, 12)}`,
  );

  // A service snap on a publishing run: ppc64el would take 8 hours and more under qemu. A snap on
  // core22 or later builds it on Launchpad (examples/workflows/snap-repo.yml); Launchpad's
  // remote builder takes no base-less snap, so this one names a self-hosted ppc64el runner.
  const m = action(
    'matrix',
    {
      project,
      arches: 'amd64 arm64 ppc64el',
      'self-hosted': 'ppc64el=self-hosted,ppc64el',
      'native-build-minutes': '20',
    },
    'matrix',
  );
  for (const e of JSON.parse(m.matrix).include)
    console.log(
      `  -> ${e.arch}: ${e.mode}, runs-on ${e.runner}, job limit ${e['job-minutes']} min`,
    );

  if (!onPath('mksquashfs') || !onPath('unsquashfs')) {
    skip(
      'build, smoke-test plan and publish',
      'squashfs-tools (mksquashfs, unsquashfs) is not installed, so no .snap can be made',
      `${setupCommand()} installs it`,
    );
    return;
  }
  if (!realSnapcraft)
    console.log(
      '\n(snapcraft is not installed: the builds below use the STAND-IN test/standins/snapcraft)',
    );
  copyFileSync(join(standins, 'snapcraft-pack.sh'), join(project, 'snapcraft-pack.sh'));
  const snaps = [];
  // The 2017 snap has no base: only snapcraft 2.43 builds it, which snapcraft 4.x runs for it
  // (`snapcraft cleanbuild`). A runner set up by the action installs 4.x/stable; the stand-in
  // plays that snapcraft here, and refuses what it would refuse.
  const native = action('build', { project, setup: 'false' }, 'build amd64 (native)', {
    STANDIN_SNAPCRAFT_CHANNEL: '4.x/stable',
  });
  snaps.push(native.snap);
  const lxd = lxdProblem(['osa-arm64'], ['qemu-aarch64']);
  if (!lxd) {
    const arm = action(
      'build',
      {
        project,
        arch: 'arm64',
        emulate: 'true',
        image: 'osa-arm64',
        'lxd-config': 'raw.lxc=lxc.init.cmd = /bin/sleep infinity',
        'container-command': 'sh ./snapcraft-pack.sh',
      },
      'build arm64 (emulated in LXD)',
    );
    snaps.push(arm.snap);
  } else {
    skip('the emulated arm64 build', lxd);
  }
  for (const snap of snaps)
    console.log(
      `  -> ${snap}: ${execFileSync('unsquashfs', ['-cat', snap, 'meta/snap.yaml'], { encoding: 'utf8' }).match(/- (\S+)/)[1]}`,
    );

  action(
    'smoke-test',
    { snap: native.snap, ref, level: 'deploy', 'dry-run': 'true' },
    'smoke-test plan for the amd64 build (dry run: no cloud here)',
  );
  action(
    'publish',
    { snaps: snaps.join('\n'), ref, 'dry-run': 'true' },
    'publish (dry run: no store here)',
  );
  const snapsDir = join(work, 'runner-temp', 'snaps');
  console.log(
    `\nsnaps: ${readdirSync(snapsDir)
      .map((arch) => join(snapsDir, arch))
      .join(', ')}`,
  );
}

function describeChanges(json) {
  return JSON.parse(json)
    .map((r) => {
      const refs = (list) => list.map((c) => c.ref.replace(/^refs\/(heads|tags)\//, '')).join(', ');
      const parts = [
        r.created.length && `created ${refs(r.created)}`,
        r.updated.length && `updated ${refs(r.updated)}`,
        r.deleted.length && `deleted ${refs(r.deleted)}`,
      ].filter(Boolean);
      return `${r.destination.replace(/^.*\/github\//, 'github:')}: ${r.status}${parts.length ? ` (${parts.join('; ')})` : ''}`;
    })
    .join('\n  -> ');
}

console.log(`\njob summary (what a maintainer sees on the run page): ${summary}`);
console.log(`work directory: ${work}`);
if (skipped.length) console.log(`skipped on this machine: ${skipped.join('; ')}`);
