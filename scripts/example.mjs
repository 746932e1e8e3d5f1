#!/usr/bin/env node
// The toolkit's whole pipeline on a snap, on this machine and without network:
//   npm run example [-- [REF] [--snap DIR] [--smoke LEVEL]]
// REF is the branch a maintainer's dispatch rebuilds (default stable/ocata; try master,
// stable/2025.1 or feature/x); DIR is your own snap project (default the bundled 2017 keystone
// snap, examples/snap-keystone); LEVEL plans a smoke test (deploy, smoke, upgrade; off by default,
// as in snap.yml). mirror (twice: first, then incremental) -> plan -> constraints (where the plan
// applies them) -> matrix -> build -> smoke-test plan (if asked) -> publish (dry run, where the plan
// publishes), each the committed action bundle run as a runner would run it. Upstream
// (opendev), the GitHub destination and openstack/requirements are local git repositories served
// by git daemon on 127.0.0.1. Where snapcraft is not installed, builds use the test stand-in
// (test/standins/snapcraft) and say so; where LXD and the test images are there
// (bash scripts/setup.sh --system), arm64 is also built in an emulated container. What this machine
// cannot run is skipped with one line saying why and what would enable it.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRequirementsRepo, git, initBare, startGitDaemon } from './lib/git-fixtures.mjs';
import { lxdProblem, onPath, setupCommand } from './lib/setup-hint.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
/** `--name VALUE` from the arguments (removed from them), or undefined. */
function option(name) {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (!value || value.startsWith('--')) usage(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}
const USAGE = 'usage: npm run example -- [REF] [--snap DIR] [--smoke deploy|smoke|upgrade]';
function usage(problem) {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}
if (args.includes('--help') || args.includes('-h')) {
  // The comment at the top of this file says what each part does.
  const head = readFileSync(fileURLToPath(import.meta.url), 'utf8')
    .split('\n')
    .slice(1);
  const about = head.slice(
    0,
    head.findIndex((line) => !line.startsWith('//')),
  );
  console.log(about.map((line) => line.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const ownSnap = option('--snap');
const smokeLevel = option('--smoke');
// Checked here, before minutes of mirroring and building (the action would refuse it at the end).
if (smokeLevel && !['deploy', 'smoke', 'upgrade'].includes(smokeLevel))
  usage(`--smoke must be deploy, smoke or upgrade, not '${smokeLevel}'`);
if (args.some((a) => a.startsWith('--')))
  usage(`unknown option ${args.find((a) => a.startsWith('--'))}`);
const ref = args[0] ?? 'stable/ocata';
const snapSource = ownSnap ? resolve(ownSnap) : join(root, 'examples/snap-keystone');
const yamlOf = (dir) =>
  [join(dir, 'snap/snapcraft.yaml'), join(dir, 'snapcraft.yaml')].find((f) => existsSync(f));
if (!yamlOf(snapSource)) usage(`${snapSource} has no snap/snapcraft.yaml or snapcraft.yaml`);
const baseLess = !/^base:/m.test(readFileSync(yamlOf(snapSource), 'utf8'));
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

// The snap repo on "opendev": the snap on master, stable/ocata and the branch asked for.
const upstreamWork = join(work, 'upstream-work');
initBare(join(served, 'opendev/x/snap-keystone.git'));
initBare(join(served, 'github/openstack-snaps/snap-keystone.git'));
cpSync(snapSource, upstreamWork, {
  recursive: true,
  filter: (path) => !/[/\\](\.git|parts|stage|prime)$/.test(path),
});
git(upstreamWork, ['init', '--quiet', '--initial-branch=master']);
git(upstreamWork, ['add', '-A']);
git(upstreamWork, ['commit', '--quiet', '-m', 'The snap']);
git(upstreamWork, ['branch', 'stable/ocata']);
git(upstreamWork, ['commit', '--quiet', '--allow-empty', '-m', 'Start pike']);
if (!['master', 'stable/ocata'].includes(ref)) git(upstreamWork, ['branch', ref, 'master']);

const daemon = await startGitDaemon(served);
try {
  await pipeline();
} finally {
  await daemon.stop();
}

async function pipeline() {
  const upstream = `${daemon.url}/opendev/x/snap-keystone.git`;
  const destination = `${daemon.url}/github/openstack-snaps/snap-keystone.git`;
  git(upstreamWork, ['push', '--quiet', upstream, ...new Set(['master', 'stable/ocata', ref])]);
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

  // The snap repo's pipeline, as snap.yml runs it for a maintainer's dispatch of the branch: the
  // plan decides, then the legs build a checkout of the mirrored branch.
  const plan = action(
    'plan',
    { branch: ref, 'requirements-repo': `${daemon.url}/openstack/requirements` },
    `plan: a dispatch rebuilding ${ref}`,
  );
  console.log(
    `  -> ${plan.publish === 'true' ? 'publishes' : 'does not publish'} (${plan.reason}); ` +
      (plan.constraints === 'true'
        ? `release constraints at openstack/requirements ${plan['constraints-commit'].slice(0, 12)}`
        : 'no release constraints'),
  );
  if (!ownSnap && ref !== 'stable/ocata')
    console.log(
      `  (the bundled snap is the 2017 ocata keystone snap on every branch here, so it still says version ocata; --snap DIR builds yours on ${ref})`,
    );
  const project = join(work, 'snap-keystone');
  execFileSync('git', ['clone', '--quiet', '--branch', ref, destination, project]);

  if (plan.constraints === 'true') {
    const c = action(
      'constraints',
      {
        project,
        ref,
        'requirements-repo': `${daemon.url}/openstack/requirements`,
        'constraints-commit': plan['constraints-commit'],
      },
      `constraints: ${ref}`,
    );
    console.log(
      `  -> series ${c.series}, track ${c.track}, openstack/requirements ${c['constraints-ref']} @ ${c['constraints-commit'].slice(0, 12)}`,
    );
  } else {
    console.log(`\n=== constraints: skipped, as the plan said (${ref} carries no release)`);
  }

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
  const legs = JSON.parse(m.matrix).include;
  for (const e of legs)
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
  const native = action(
    'build',
    { project, setup: 'false' },
    'build amd64 (native)',
    baseLess ? { STANDIN_SNAPCRAFT_CHANNEL: '4.x/stable' } : {},
  );
  snaps.push(native.snap);
  // The arm64 leg, as the matrix plans it on GitHub; this machine builds it emulated in LXD.
  const arm64 = legs.find((e) => e.arch === 'arm64');
  const planned =
    arm64 && `the matrix runs it ${arm64.mode} on ${arm64.runner}; here it is emulated`;
  const lxd = arm64 ? lxdProblem(['osa-arm64'], ['qemu-aarch64']) : null;
  if (!arm64) {
    console.log('\n=== build arm64: not in the matrix (the snap does not build for arm64)');
  } else if (!lxd) {
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
      `build arm64 (${planned} in LXD)`,
    );
    snaps.push(arm.snap);
  } else {
    skip(`the arm64 build (${planned})`, lxd);
  }
  for (const snap of snaps)
    console.log(
      `  -> ${snap}: ${execFileSync('unsquashfs', ['-cat', snap, 'meta/snap.yaml'], { encoding: 'utf8' }).match(/- (\S+)/)[1]}`,
    );

  if (smokeLevel) {
    // The smoke and upgrade levels boot cirros, which snap.yml downloads from 'cirros-image-url';
    // there is no network here, so the plan gets an empty file in its place (a dry run never reads it).
    const inputs = { snap: native.snap, ref, level: smokeLevel, 'dry-run': 'true' };
    if (smokeLevel !== 'deploy') {
      inputs['cirros-image'] = join(work, 'cirros-placeholder.img');
      writeFileSync(inputs['cirros-image'], '');
    }
    action(
      'smoke-test',
      inputs,
      `smoke-test plan (${smokeLevel}) for the amd64 build (dry run: no cloud here${smokeLevel === 'deploy' ? '' : '; an empty placeholder for the cirros image'})`,
    );
  } else
    console.log(
      '\n=== smoke tests: off (smoke-level none, as in snap.yml; --smoke deploy plans one)',
    );
  if (plan.publish === 'true')
    action(
      'publish',
      { snaps: snaps.join('\n'), ref, 'dry-run': 'true' },
      'publish (dry run: no store here)',
    );
  else console.log(`\n=== publish: skipped, as the plan said (${plan.reason})`);
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
