import * as core from '@actions/core';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNative } from '../build.js';
import {
  isoWeek,
  restoreWheels,
  saveWheels,
  wheelCacheKeys,
  type CacheUse,
} from '../build-caches.js';
import {
  BASE_SERIES,
  ensureBuildImage,
  ubuntuDebootstrap,
  type BuildImage,
} from '../build-image.js';
import { DirectoryCache } from '../dir-cache.js';
import { constrain, DEFAULT_CONSTRAINTS_PATH, type ConstrainResult } from '../constrain.js';
import { buildInContainer, BuildError } from '../container-build.js';
import { ConfigurationError } from '../errors.js';
import { Lxd } from '../lxd.js';
import { DEFAULT_REQUIREMENTS_REPO } from '../requirements-repo.js';
import { runnerSetupPlan } from '../runner-setup.js';
import type { SnapInfo } from '../snap-file.js';
import { snapcraftChannelFor } from '../snapcraft-channel.js';
import { locateSnapcraftYaml, parseSnapcraftYaml } from '../snapcraft-yaml.js';
import { checkArch } from '../architectures.js';
import { hostArch } from '../elf.js';
import { actionsFileCache, actionsPrefixCache } from './actions-cache.js';
import { BuildInputs as I, BuildOutputs as O } from './constants.js';
import { defaultRef } from './github-event.js';
import { flushSummary, getBooleanInput, isEntryPoint, runAction, runnerTemp } from './runner.js';

/** The build action: the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('build', main);
}

async function main(): Promise<void> {
  const project = core.getInput(I.project) || '.';
  const { file, projectDir } = locateSnapcraftYaml(project);
  const snapcraftYaml = parseSnapcraftYaml(readFileSync(file, 'utf8'), file, projectDir);
  const arch = checkArch(core.getInput(I.arch) || hostArch(), 'arch input');
  const emulate = getBooleanInput(I.emulate, false);
  const channel =
    core.getInput(I.snapcraftChannel) || snapcraftChannelFor(snapcraftYaml.base, file);
  let image = core.getInput(I.image);
  const series = snapcraftYaml.base ? BASE_SERIES[snapcraftYaml.base] : undefined;
  if (emulate && !image && !series) {
    throw new ConfigurationError(
      `${file} has ${snapcraftYaml.base ? `base ${snapcraftYaml.base}` : 'no base'}, so the action cannot make an emulated ${arch} build image for it: ` +
        `set 'image' to an LXD image of ${arch} that has snapcraft in it.`,
    );
  }
  const useCache = getBooleanInput(I.cache, true);
  const cacheDir = core.getInput(I.cacheDir);
  // One cache for both uses: the directory on self-hosted runners, else the Actions cache.
  const directory = useCache && cacheDir ? new DirectoryCache(cacheDir) : undefined;
  const fileCache = useCache ? (directory ?? actionsFileCache()) : undefined;
  const prefixCache = useCache ? (directory?.prefixCache() ?? actionsPrefixCache()) : undefined;
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
    for (const warning of constraints.warnings) core.warning(warning);
  }

  const setup = core.getInput(I.setup) || 'auto';
  if (
    setup === 'true' ||
    (setup === 'auto' && process.env.RUNNER_ENVIRONMENT === 'github-hosted')
  ) {
    const installs = emulate ? 'qemu-user-static, debootstrap' : 'snapcraft';
    await core.group(`Prepare the runner (snapd, LXD, ${installs})`, async () =>
      prepareRunner(channel, emulate),
    );
  }

  let buildImage: BuildImage | null = null;
  let instanceConfig = parseConfig(core.getInput(I.lxdConfig));
  if (emulate && !image) {
    const rootfs = core.getInput(I.rootfs);
    buildImage = await core.group(`Build image: Ubuntu ${series} for ${arch} with snapcraft`, () =>
      ensureBuildImage({
        lxd: new Lxd(),
        arch,
        series: series!,
        snapcraftChannel: channel,
        rootfs: rootfs ? { tarball: rootfs } : { debootstrap: ubuntuDebootstrap(series!, arch) },
        storeApi: core.getInput(I.storeApi) || undefined,
        cache: fileCache,
        keySuffix: isoWeek(new Date()),
        workDir: join(runnerTemp(), 'osa-build-image', arch),
        log: core.info,
      }),
    );
    image = buildImage.alias;
    core.setOutput(O.buildImage, image);
    // The image has no init to boot under emulation: a sleep holds the container up.
    if (Object.keys(instanceConfig).length === 0) instanceConfig = NO_INIT;
  }

  // pip's wheels: carried through the container for emulated builds, and craft's shared cache
  // (which snapcraft mounts into its build instance) for native ones.
  const wheelKeys = wheelCacheKeys({
    kind: emulate ? 'pip' : 'craft',
    series: series ?? snapcraftYaml.base ?? 'nobase',
    arch,
    constraintsCommit: constraints?.constraintsCommit ?? constraintsDigest(projectDir),
  });
  const wheelDir = join(runnerTemp(), emulate ? 'osa-pip' : 'osa-craft-cache', arch);
  mkdirSync(wheelDir, { recursive: true });
  const wheelsFrom = await restoreWheels(prefixCache, wheelDir, wheelKeys);

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
            instanceConfig,
            command: (
              core.getInput(I.containerCommand) || 'snapcraft pack --destructive-mode'
            ).split(/\s+/),
            env: { ...buildEnv, PIP_CACHE_DIR: CONTAINER_PIP_CACHE },
            carry: [{ host: wheelDir, container: CONTAINER_PIP_CACHE }],
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
          env: { ...buildEnv, CRAFT_SHARED_CACHE: wheelDir },
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
  const wheels = await saveWheels(prefixCache, wheelDir, wheelKeys, wheelsFrom);
  const caches = {
    buildImage: buildImage
      ? {
          alias: buildImage.alias,
          source: buildImage.source,
          key: buildImage.cacheKey,
          saved: buildImage.saved,
        }
      : null,
    wheels,
  };
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
    image: emulate ? image : null,
    snapcraft: buildImage?.snapcraft ?? null,
    caches,
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
    ])
    .addTable(cacheRows(caches, useCache));
  await flushSummary();
}

const CONTAINER_PIP_CACHE = '/root/.cache/pip';
const NO_INIT = { 'raw.lxc': 'lxc.init.cmd = /bin/sleep infinity' };

/** Without a constraints commit, the constraints file the project carries names the wheels. */
function constraintsDigest(projectDir: string): string | null {
  for (const path of [DEFAULT_CONSTRAINTS_PATH, 'upper-constraints.txt']) {
    const file = join(projectDir, path);
    if (existsSync(file))
      return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  }
  return null;
}

type SummaryRow = (string | { data: string; header: boolean })[];

/** The summary's account of what the caches gave and kept. */
function cacheRows(
  caches: {
    buildImage: { alias: string; source: string; key: string; saved: boolean } | null;
    wheels: CacheUse;
  },
  enabled: boolean,
): SummaryRow[] {
  const header = ['Cache', 'Key', 'Result'].map((data) => ({ data, header: true }));
  if (!enabled) return [header, ['all', '', 'off (cache: false)']];
  const rows: SummaryRow[] = [header];
  if (caches.buildImage) {
    const { source, key, saved } = caches.buildImage;
    const result =
      source === 'present'
        ? 'hit: already in LXD'
        : source === 'restored'
          ? 'hit: restored'
          : `miss: built${saved ? ', saved' : ''}`;
    rows.push(['build image', key, result]);
  }
  const { key, restoredFrom, saved, files } = caches.wheels;
  const result =
    restoredFrom === key ? 'hit' : restoredFrom ? `partial: restored ${restoredFrom}` : 'miss';
  rows.push([
    'pip wheels',
    key,
    `${result}; ${files ?? 0} files after the build${saved ? ', saved' : ''}`,
  ]);
  return rows;
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

function prepareRunner(channel: string, emulate: boolean): void {
  const docker = spawnSync('sh', ['-c', 'command -v docker'], { stdio: 'ignore' }).status === 0;
  const lxdInstalled = spawnSync('sh', ['-c', 'snap list lxd'], { stdio: 'ignore' }).status === 0;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  for (const step of runnerSetupPlan({
    snapcraftChannel: channel,
    docker,
    lxdInstalled,
    emulate,
  })) {
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
