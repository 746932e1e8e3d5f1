import * as core from '@actions/core';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNative } from '../build.js';
import { constrain, type ConstrainResult } from '../constrain.js';
import { buildInContainer, BuildError } from '../container-build.js';
import { ConfigurationError } from '../errors.js';
import { Lxd } from '../lxd.js';
import { DEFAULT_REQUIREMENTS_REPO } from '../requirements-repo.js';
import { runnerSetupPlan } from '../runner-setup.js';
import type { SnapInfo } from '../snap-file.js';
import { snapcraftChannelFor } from '../snapcraft-channel.js';
import { locateSnapcraftYaml, parseSnapcraftYaml } from '../snapcraft-yaml.js';
import { checkArch } from '../architectures.js';
import { BuildInputs as I, BuildOutputs as O } from './constants.js';
import { defaultRef } from './constraints-settings.js';
import { flushSummary, getBooleanInput, isEntryPoint, runAction, runnerTemp } from './runner.js';

const HOST_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  ppc64: 'ppc64el',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** The build action: the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('build', main);
}

async function main(): Promise<void> {
  const project = core.getInput(I.project) || '.';
  const { file, projectDir } = locateSnapcraftYaml(project);
  const snapcraftYaml = parseSnapcraftYaml(readFileSync(file, 'utf8'), file, projectDir);
  const arch = checkArch(
    core.getInput(I.arch) || HOST_ARCH[process.arch] || process.arch,
    'arch input',
  );
  const emulate = getBooleanInput(I.emulate, false);
  const channel =
    core.getInput(I.snapcraftChannel) || snapcraftChannelFor(snapcraftYaml.base, file);
  const image = core.getInput(I.image);
  if (emulate && !image) {
    throw new ConfigurationError(
      `An emulated ${arch} build needs 'image': an LXD image of ${arch} that has snapcraft in it.`,
    );
  }
  const outputDir = core.getInput(I.outputDir) || join(runnerTemp(), 'snaps', arch);
  const logsDir = join(runnerTemp(), 'snap-build-logs', arch);
  const buildUrl = process.env.GITHUB_RUN_ID
    ? `${process.env.GITHUB_SERVER_URL ?? 'https://github.com'}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}`
    : '';
  const buildEnv = {
    SNAPCRAFT_BUILD_INFO: '1',
    ...(buildUrl ? { SNAPCRAFT_IMAGE_INFO: JSON.stringify({ build_url: buildUrl }) } : {}),
  };
  core.setOutput(O.logsDir, logsDir);

  let constraints: ConstrainResult | null = null;
  if (getBooleanInput(I.constraints, false)) {
    constraints = await core.group('Apply OpenStack constraints', () =>
      constrain({
        project: projectDir,
        ref: core.getInput(I.ref) || defaultRef(process.env),
        requirementsRepo: core.getInput(I.requirementsRepo) || DEFAULT_REQUIREMENTS_REPO,
        exclude: ['auto'],
        workDir: join(runnerTemp(), 'openstack-snap-actions'),
        log: core.info,
      }),
    );
  }

  const setup = core.getInput(I.setup) || 'auto';
  if (
    setup === 'true' ||
    (setup === 'auto' && process.env.RUNNER_ENVIRONMENT === 'github-hosted' && !emulate)
  ) {
    await core.group('Prepare the runner (snapd, LXD, snapcraft)', async () =>
      prepareRunner(channel),
    );
  }

  const started = Date.now();
  let snaps: SnapInfo[];
  try {
    snaps = await core.group(
      `Build ${snapcraftYaml.name} for ${arch}${emulate ? ' (emulated)' : ''}`,
      async () => {
        if (emulate) {
          const result = await buildInContainer({
            lxd: new Lxd(),
            projectDir,
            arch,
            image,
            instanceConfig: parseConfig(core.getInput(I.lxdConfig)),
            command: (
              core.getInput(I.containerCommand) || 'snapcraft pack --destructive-mode'
            ).split(/\s+/),
            env: buildEnv,
            outputDir,
            logsDir,
            log: core.info,
          });
          return result.snaps;
        }
        return buildNative({
          projectDir,
          arch,
          platform: core.getInput(I.platform) || undefined,
          snapcraft: core.getInput(I.snapcraft) || 'snapcraft',
          env: buildEnv,
          outputDir,
          logsDir,
          log: core.info,
        });
      },
    );
  } catch (error) {
    if (error instanceof BuildError) {
      core.summary
        .addHeading(`${snapcraftYaml.name} ${arch}: build failed`, 3)
        .addCodeBlock(error.message);
      await flushSummary();
    }
    throw error;
  }
  const manifest = {
    snap: snapcraftYaml.name,
    base: snapcraftYaml.base,
    arch,
    emulated: emulate,
    snapcraftChannel: channel,
    runner: {
      name: process.env.RUNNER_NAME ?? null,
      image: process.env.ImageOS ?? null,
      os: process.env.RUNNER_OS ?? null,
    },
    buildUrl: buildUrl || null,
    seconds: (Date.now() - started) / 1000,
    constraints: constraints
      ? {
          ref: constraints.constraintsRef?.name ?? null,
          commit: constraints.constraintsCommit,
          excluded: constraints.excluded.filter((e) => e.removed.length).map((e) => e.name),
        }
      : null,
    snaps: snaps.map((s) => ({
      file: s.file,
      version: s.version,
      arch: s.arch,
      sha3_384: createHash('sha3-384').update(readFileSync(s.file)).digest('hex'),
    })),
  };
  core.setOutput(O.snaps, snaps.map((s) => s.file).join('\n'));
  core.setOutput(O.snap, snaps[0]!.file);
  core.setOutput(O.name, snaps[0]!.name);
  core.setOutput(O.version, snaps[0]!.version);
  core.setOutput(O.arch, arch);
  core.setOutput(O.manifest, JSON.stringify(manifest));
  core.summary
    .addHeading(`${snapcraftYaml.name} ${snaps[0]!.version} for ${arch}`, 3)
    .addTable([
      ['Snap', 'Arch', 'How', 'Constraints', 'Time'].map((data) => ({ data, header: true })),
      ...snaps.map((s) => [
        s.file.split('/').pop()!,
        s.arch,
        emulate ? `emulated in ${image}` : `snapcraft ${channel}, LXD`,
        constraints
          ? `${constraints.constraintsRef?.name ?? 'file'} ${constraints.constraintsCommit?.slice(0, 12) ?? ''}`
          : '',
        `${manifest.seconds.toFixed(0)} s`,
      ]),
    ]);
  await flushSummary();
}

function parseConfig(text: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const at = line.indexOf('=');
    if (at <= 0) throw new ConfigurationError(`'${I.lxdConfig}' line '${line}' is not key=value.`);
    config[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return config;
}

function prepareRunner(channel: string): void {
  const docker = spawnSync('sh', ['-c', 'command -v docker'], { stdio: 'ignore' }).status === 0;
  const lxdInstalled = spawnSync('sh', ['-c', 'snap list lxd'], { stdio: 'ignore' }).status === 0;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  for (const step of runnerSetupPlan({ snapcraftChannel: channel, docker, lxdInstalled })) {
    core.info(`${step.why}: ${step.argv.join(' ')}`);
    const argv = [...sudo, ...step.argv];
    const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    if (result.status !== 0) {
      const why = (result.stderr || result.error?.message || '').trim().split('\n').at(-1);
      if (step.optional) core.warning(`${step.why} failed (${why}); going on`);
      else throw new Error(`runner setup: ${step.why} failed: \`${step.argv.join(' ')}\`: ${why}`);
    }
  }
}

if (isEntryPoint(import.meta.url)) await run();
