import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { countFiles } from './caches.js';
import { UNAME_ARCH } from './elf.js';
import {
  ConfigurationError,
  errorMessage,
  execOk,
  ExternalError,
  lastLines,
  type Lxd,
} from '../platform/index.js';
import type { SnapInfo } from '../snapcraft/index.js';
import { BuildError, buildFailure } from './failure.js';
import { verifyArch } from './verify.js';

export interface ContainerBuildOptions {
  readonly lxd: Lxd;
  /** The snap project directory to build. */
  readonly projectDir: string;
  /** The architecture to build for (the container's). */
  readonly arch: string;
  /** An LXD image of that architecture. */
  readonly image: string;
  /** LXD config for the instance (e.g. raw.lxc for an image without init, security.nesting). */
  readonly instanceConfig?: Readonly<Record<string, string>>;
  /** What builds the snap inside, run in the project directory. */
  readonly command: readonly string[];
  /** Environment for the build (no secrets: it goes on lxc's command line). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The build's own limit: stopped inside the container (coreutils `timeout`) before the job's,
   * so a leg that runs out fails with its output and logs kept, not cancelled without them.
   */
  readonly timeoutMinutes?: number;
  readonly outputDir: string;
  /** Where build output, snapcraft's logs and the console log land on failure. */
  readonly logsDir: string;
  readonly keepInstance?: boolean;
  /**
   * Directories carried between builds (pip's wheel cache): the host copy goes into the container
   * before the build and comes back out after a successful one.
   */
  readonly carry?: readonly CarriedDirectory[];
  readonly log?: (line: string) => void;
}

export interface CarriedDirectory {
  /** On the host; created when missing. */
  readonly host: string;
  /** Absolute path in the container. */
  readonly container: string;
}

export interface CarriedReport {
  readonly container: string;
  /** Files in it when the build started and when it ended (null when it never came back). */
  readonly filesBefore: number;
  readonly filesAfter: number | null;
}

export interface ContainerBuildResult {
  readonly snaps: SnapInfo[];
  readonly carried: CarriedReport[];
  readonly instance: string;
  readonly seconds: number;
}

const REMOTE_PROJECT = '/root/project';

/**
 * Builds inside an LXD container of the target architecture (emulated by qemu-user when foreign):
 * pushes the project in, runs the build, pulls the .snap out, and checks that it and its binaries
 * really are for that architecture. snapcraft's LXD provider cannot do this: it only launches
 * instances of the host's architecture.
 */
export async function buildInContainer(
  options: ContainerBuildOptions,
): Promise<ContainerBuildResult> {
  const { lxd, arch, log = () => {} } = options;
  if (!existsSync(options.projectDir))
    throw new ConfigurationError(`${options.projectDir} does not exist.`);
  const started = Date.now();
  const instance = `osa-build-${arch}-${randomBytes(3).toString('hex')}`;
  mkdirSync(options.outputDir, { recursive: true });
  const output: string[] = [];
  try {
    await lxd.launch(options.image, instance, options.instanceConfig);
    const uname = (await lxd.execIn(instance, ['uname', '-m'])).stdout.trim();
    if (UNAME_ARCH[uname] !== arch) {
      throw new ConfigurationError(
        `The ${options.image} container runs ${uname || 'nothing'}, not ${arch}: the image is of another architecture, ` +
          `or qemu-user-static's binfmt handlers are not registered (with the F flag) on this host.`,
      );
    }
    log(`${instance}: ${uname} container up; pushing ${options.projectDir}`);
    // `lxc file push -r` nests a directory under its own name: push into a staging directory, then
    // move it into place.
    await lxd.execIn(instance, ['mkdir', '-p', '/root/.osa-upload']);
    await lxd.push(instance, options.projectDir, '/root/.osa-upload/');
    const moved = await lxd.execIn(instance, [
      'mv',
      `/root/.osa-upload/${basename(options.projectDir)}`,
      REMOTE_PROJECT,
    ]);
    if (moved.code !== 0)
      throw new ExternalError(
        `could not put the project in place in ${instance}: ${lastLines(moved.stderr)}`,
      );
    // Snaps already in the project (an earlier build's) are not this build's output.
    const findSnaps = async (): Promise<string[]> =>
      (
        await lxd.execIn(instance, ['find', REMOTE_PROJECT, '-maxdepth', '1', '-name', '*.snap'])
      ).stdout
        .split('\n')
        .filter(Boolean);
    const existing = new Set(await findSnaps());
    const carriedBefore: number[] = [];
    for (const dir of options.carry ?? []) carriedBefore.push(await carryIn(lxd, instance, dir));
    log(`${instance}: ${options.command.join(' ')}`);
    const limit = options.timeoutMinutes;
    const argv = limit
      ? ['timeout', '--kill-after=60', `${limit * 60}`, ...options.command]
      : options.command;
    const build = await lxd.execIn(instance, argv, {
      cwd: REMOTE_PROJECT,
      env: options.env,
      onLine: (line) => {
        output.push(line);
        log(line);
      },
    });
    if (limit && (build.code === 124 || build.code === 137))
      throw await failure(
        options,
        instance,
        output,
        build.code,
        `did not finish in ${limit} minutes (its build-minutes, inside the job's limit); emulated builds run 20 to 40 times slower than native: build this arch on Launchpad (remote-arches) or a self-hosted runner`,
      );
    if (build.code !== 0) throw await failure(options, instance, output, build.code);

    const remote = (await findSnaps()).filter((path) => !existing.has(path));
    if (remote.length === 0)
      throw await failure(
        options,
        instance,
        output,
        0,
        'the build succeeded but produced no .snap',
      );
    const snaps: SnapInfo[] = [];
    for (const path of remote) {
      const local = join(options.outputDir, basename(path));
      await lxd.pull(instance, path, local);
      snaps.push(await verifyArch(local, arch));
    }
    const carried: CarriedReport[] = [];
    for (const [index, dir] of (options.carry ?? []).entries()) {
      carried.push({
        container: dir.container,
        filesBefore: carriedBefore[index]!,
        filesAfter: await carryOut(lxd, instance, dir).catch((error: unknown) => {
          log(`could not bring ${dir.container} back out: ${errorMessage(error)}`);
          return null;
        }),
      });
    }
    return { snaps, carried, instance, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (!options.keepInstance) await lxd.delete(instance).catch(() => {});
  }
}

/** Puts a host directory's contents at `dir.container` (as one tar stream); returns the file count. */
async function carryIn(lxd: Lxd, instance: string, dir: CarriedDirectory): Promise<number> {
  mkdirSync(dir.host, { recursive: true });
  const files = countFiles(dir.host);
  await lxd.runIn(instance, ['mkdir', '-p', dir.container]);
  if (files === 0) return 0;
  const tarball = `${dir.host}.tar`;
  await execOk(['tar', '-C', dir.host, '-cf', tarball, '.']);
  try {
    await lxd.pushFile(instance, tarball, '/root/.osa-carry.tar');
  } finally {
    rmSync(tarball, { force: true });
  }
  await lxd.runIn(instance, [
    'tar',
    '--no-same-owner',
    '-C',
    dir.container,
    '-xf',
    '/root/.osa-carry.tar',
  ]);
  await lxd.runIn(instance, ['rm', '-f', '/root/.osa-carry.tar']);
  return files;
}

/** Replaces the host directory with what the build left at `dir.container`; returns the count. */
async function carryOut(lxd: Lxd, instance: string, dir: CarriedDirectory): Promise<number> {
  await lxd.runIn(instance, ['tar', '-C', dir.container, '-cf', '/root/.osa-carry.tar', '.']);
  const tarball = `${dir.host}.tar`;
  await lxd.pull(instance, '/root/.osa-carry.tar', tarball);
  try {
    rmSync(dir.host, { recursive: true, force: true });
    mkdirSync(dir.host, { recursive: true });
    await execOk(['tar', '-C', dir.host, '-xf', tarball]);
  } finally {
    rmSync(tarball, { force: true });
  }
  return countFiles(dir.host);
}

async function failure(
  options: ContainerBuildOptions,
  instance: string,
  output: string[],
  code: number,
  what?: string,
): Promise<BuildError> {
  const { lxd, logsDir } = options;
  mkdirSync(logsDir, { recursive: true });
  writeFileSync(
    join(logsDir, 'console.log'),
    await lxd
      .consoleLog(instance)
      .catch((e: unknown) => `console log unavailable: ${errorMessage(e)}`),
  );
  // snapcraft keeps a log per run; take them all.
  const state = '/root/.local/state/snapcraft/log';
  if ((await lxd.execIn(instance, ['test', '-d', state])).code === 0) {
    // A recursive pull nests the directory under its own name ('log'), like push does.
    await lxd
      .pull(instance, state, logsDir, true)
      .then(() => renameSync(join(logsDir, 'log'), join(logsDir, 'snapcraft-logs')))
      .catch(() => {});
  }
  return buildFailure(options.arch, output, code, logsDir, what);
}
