#!/usr/bin/env node
// The toolkit's main job on the bundled example, on this machine and without network:
//   npm run example [-- REF]        (REF defaults to stable/ocata; try master or stable/2025.1)
// It serves a local openstack/requirements over git daemon, copies examples/snap-keystone to a
// scratch directory and runs the committed constraints bundle on it exactly as a runner would.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRequirementsRepo, startGitDaemon } from './lib/git-fixtures.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const ref = process.argv[2] ?? 'stable/ocata';
const work = mkdtempSync(join(tmpdir(), 'osa-example-'));

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

const output = join(work, 'github-output');
const summary = join(work, 'step-summary.md');
writeFileSync(output, '');
writeFileSync(summary, '');
console.log(`example: constraining ${project} for ${ref}\n`);
const run = spawnSync(process.execPath, [join(root, 'dist/constraints/index.js')], {
  stdio: 'inherit',
  env: {
    ...process.env,
    INPUT_PROJECT: project,
    INPUT_REF: ref,
    'INPUT_REQUIREMENTS-REPO': `${daemon.url}/openstack/requirements`,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    RUNNER_TEMP: join(work, 'runner-temp'),
  },
});
await daemon.stop();

const outputs = [...readFileSync(output, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)];
console.log('\noutputs:');
for (const [, name, , value] of outputs) {
  if (name !== 'manifest') console.log(`  ${name.padEnd(19)} ${value}`);
}
const constraintsFile = outputs.find(([, name]) => name === 'constraints-file')?.[3];
if (constraintsFile) {
  console.log(`\n${constraintsFile} (head):`);
  console.log(readFileSync(constraintsFile, 'utf8').split('\n').slice(0, 5).join('\n'));
}
console.log(`\njob summary: ${summary}\nwork directory: ${work}`);
process.exit(run.status ?? 1);
