#!/usr/bin/env node
// The toolkit's main job on the bundled example, on this machine and without network:
//   npm run example [-- REF]        (REF defaults to stable/ocata; try master or stable/2025.1)
// constraints -> matrix -> build -> publish (dry run), each the committed action bundle run as a
// runner would run it. A local openstack/requirements is served over git daemon. Where snapcraft
// is not installed, builds use the test stand-in (test/standins/snapcraft), and say so; where LXD
// and the test images are there (scripts/system/*.sh), arm64 is also built in an emulated container.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRequirementsRepo, startGitDaemon } from './lib/git-fixtures.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const ref = process.argv[2] ?? 'stable/ocata';
const work = mkdtempSync(join(tmpdir(), 'osa-example-'));
const have = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

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
  join(work, 'git/openstack/requirements'),
  history,
  join(root, 'examples/requirements'),
);
const daemon = await startGitDaemon(join(work, 'git'));
const project = join(work, 'snap-keystone');
cpSync(join(root, 'examples/snap-keystone'), project, { recursive: true });

const realSnapcraft = have('snapcraft');
writeFileSync(join(work, 'summary.md'), '');
const standins = join(root, 'test/standins');
const env = {
  ...process.env,
  GITHUB_REF_NAME: ref,
  GITHUB_EVENT_NAME: 'workflow_dispatch',
  RUNNER_TEMP: join(work, 'runner-temp'),
  ...(realSnapcraft ? {} : { PATH: `${standins}:${process.env.PATH}` }),
};

/** Runs an action's bundle with inputs, as a runner does; returns its outputs. */
function action(name, inputs, title) {
  console.log(`\n=== ${title}`);
  const output = join(work, `${name}-${Math.random().toString(36).slice(2)}.out`);
  writeFileSync(output, '');
  const inputEnv = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
  );
  const run = spawnSync(process.execPath, [join(root, 'dist', name, 'index.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...env,
      ...inputEnv,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: join(work, 'summary.md'),
    },
    encoding: 'utf8',
  });
  // Runner commands (::group::, ::set-output) are for the runner; show the rest.
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('::error::'))
      console.log(`  ERROR: ${line.slice(9).replace(/%0A/g, '\n  ')}`);
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

const c = action(
  'constraints',
  { project, ref, 'requirements-repo': `${daemon.url}/openstack/requirements` },
  `constraints: ${ref}`,
);
await daemon.stop();
console.log(
  `  -> series ${c.series}, track ${c.track}, openstack/requirements ${c['constraints-ref']} @ ${c['constraints-commit'].slice(0, 12)}`,
);

const m = action('matrix', { project, arches: 'amd64 arm64 ppc64el' }, 'matrix');
const matrix = JSON.parse(m.matrix).include;
for (const e of matrix)
  console.log(`  -> ${e.arch}: runs-on ${e.runner}${e.emulate ? ' (emulated)' : ''}`);

if (!realSnapcraft)
  console.log(
    '\n(snapcraft is not installed: the builds below use the STAND-IN test/standins/snapcraft)',
  );
copyFileSync(join(standins, 'snapcraft-pack.sh'), join(project, 'snapcraft-pack.sh'));
const snaps = [];
// The 2017 snap has no base; modern snapcraft cannot build it, so the example names a channel.
const native = action(
  'build',
  { project, setup: 'false', 'snapcraft-channel': 'latest/stable' },
  'build amd64 (native)',
);
snaps.push(native.snap);
const lxdReady = have('lxc', ['image', 'info', 'osa-arm64']);
if (lxdReady) {
  const arm = action(
    'build',
    {
      project,
      arch: 'arm64',
      emulate: 'true',
      image: 'osa-arm64',
      'lxd-config': 'raw.lxc=lxc.init.cmd = /bin/sleep infinity',
      'container-command': 'sh ./snapcraft-pack.sh',
      'snapcraft-channel': 'latest/stable',
    },
    'build arm64 (emulated in LXD)',
  );
  snaps.push(arm.snap);
} else {
  console.log(
    '\n(arm64 not built: LXD or the osa-arm64 image is missing; scripts/system/*.sh set them up)',
  );
}
for (const snap of snaps)
  console.log(
    `  -> ${snap}: ${execFileSync('unsquashfs', ['-cat', snap, 'meta/snap.yaml'], { encoding: 'utf8' }).match(/- (\S+)/)[1]}`,
  );

action(
  'publish',
  { snaps: snaps.join('\n'), ref, 'dry-run': 'true' },
  'publish (dry run: no store here)',
);
console.log(`\njob summaries: ${join(work, 'summary.md')}\nwork directory: ${work}`);
