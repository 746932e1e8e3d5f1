import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNative } from './native.js';
import { isoWeek, restoreWheels, saveWheels, wheelCacheKeys, type CacheUse } from './caches.js';
import { ensureBuildImage, ubuntuDebootstrap, type BuildImage } from './image.js';
import {
  constrain,
  type ConstrainResult,
  DEFAULT_CONSTRAINTS_PATH,
  type PinConflictPolicy,
} from '../constraints/index.js';
import {
  Bug,
  ConfigurationError,
  exec,
  type FileCache,
  Lxd,
  type PrefixCache,
} from '../platform/index.js';
import {
  baseFacts,
  snapcraftBuilds,
  locateSnapcraftYaml,
  parseSnapcraftYaml,
  type SnapInfo,
} from '../snapcraft/index.js';
import { buildInContainer } from './container.js';
import {
  buildRemote,
  checkRemoteBase,
  checkRemoteRequest,
  remoteTree,
  type SentFile,
} from './remote.js';
import type { RemoteFileRules } from './remote-files.js';
import type { BuildMode } from './matrix.js';
import { prepareRunner, probeRunner, runnerSetupPlan, shouldPrepare } from './runner-setup.js';

/** One build, as the build action (and the one-step action) asks for it. */
export interface BuildSettings {
  /** The snap's directory or its snapcraft.yaml. */
  readonly project: string;
  readonly arch: string;
  /**
   * native: snapcraft pack on this runner; emulated: in an LXD container of `arch` under
   * qemu-user (arches without a runner); remote: on Launchpad's builders (snapcraft remote-build).
   */
  readonly mode: BuildMode;
  /** For remote builds: the credentials, the public-upload opt-in, and the wait on Launchpad. */
  readonly remote?: RemoteSettings;
  /** core24+ platform name for snapcraft's --platform. */
  readonly platform?: string;
  /** The snapcraft channel; by default the one that builds the base. */
  readonly snapcraftChannel?: string;
  /** The snapcraft command (a stand-in in tests). */
  readonly snapcraft: string;
  /** `auto` (hosted runners), `true` or `false`. */
  readonly setup: string;
  /** An LXD image for emulated builds; empty lets the action make one. */
  readonly image?: string;
  readonly instanceConfig: Readonly<Record<string, string>>;
  /** What runs inside the emulated container (argv); by default the base's destructive build. */
  readonly containerCommand?: readonly string[];
  /** For emulated builds, the build's own limit in minutes (a matrix entry's build-minutes). */
  readonly timeoutMinutes?: number;
  /** Apply the release's constraints first, for `ref` from `requirementsRepo`. */
  readonly constraints: boolean;
  readonly ref?: string;
  readonly requirementsRepo: string;
  /** The requirements commit the plan resolved (every leg the same); empty reads the ref's tip. */
  readonly constraintsCommit?: string;
  /** With constraints: the series to build the ref as, where its name carries none. */
  readonly series?: string;
  /** With constraints: the snap's own pins that disagree with them (constraints/constrain.ts). */
  readonly pinConflicts?: PinConflictPolicy;
  readonly outputDir: string;
  readonly logsDir: string;
  readonly rootfs?: string;
  readonly storeApi?: string;
  /** Scratch space (RUNNER_TEMP). */
  readonly workDir: string;
  /** The run's URL, recorded in the snap's build info. */
  readonly buildUrl?: string;
  /**
   * Whether this build runs for an event trusted to publish (release/events.ts). Untrusted builds
   * (pull requests) read what trusted builds cached but write their caches and build images under
   * their own names, so nothing a pull request wrote is ever read by a release build.
   */
  readonly trusted: boolean;
  /** Where the fingerprints of the build images this toolkit made are recorded (persists on self-hosted runners). */
  readonly imageRecords: string;
}

export interface RemoteSettings {
  /** The launchpadlib credentials file's contents. */
  readonly credentials: string;
  readonly acceptPublicUpload: boolean;
  readonly timeoutSeconds: number;
  /** Untracked files to send too, and credential-shaped files to send anyway (globs). */
  readonly rules: RemoteFileRules;
}

/** How a build talks to its surroundings: the log, log groups, the caches. */
export interface BuildIO {
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
  readonly group: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  readonly fileCache?: FileCache;
  readonly prefixCache?: PrefixCache;
  /** Shown what a remote build sends (the job summary) before it is uploaded. */
  readonly announce?: (files: readonly SentFile[]) => Promise<void>;
}

export interface BuildResult {
  readonly name: string;
  readonly base: string | null;
  readonly snaps: SnapInfo[];
  readonly snapcraftChannel: string;
  readonly image: string | null;
  readonly buildImage: BuildImage | null;
  /** pip's wheels through the cache; null for remote builds (Launchpad has no cache of ours). */
  readonly wheels: CacheUse | null;
  readonly constraints: ConstrainResult | null;
  /** What runner setup did, one line a step; empty when it did not run. */
  readonly setup: string[];
  /** What the snapcraft that built natively or drove the remote build says it is (`snapcraft 8.11.2`); null for emulated builds. */
  readonly snapcraftVersion: string | null;
  readonly seconds: number;
}

const CONTAINER_PIP_CACHE = '/root/.cache/pip';
// The build image has no init to boot under emulation: a sleep holds the container up.
const NO_INIT = { 'raw.lxc': 'lxc.init.cmd = /bin/sleep infinity' };

/**
 * Applies the constraints (if asked), prepares a hosted runner, then builds natively with
 * `snapcraft pack --use-lxd`, or in an emulated container of `arch` (making and caching its
 * image when none is given), carrying pip's wheels through the cache. Every snap is checked.
 */
export async function runBuild(settings: BuildSettings, io: BuildIO): Promise<BuildResult> {
  const { file, projectDir } = locateSnapcraftYaml(settings.project);
  const project = parseSnapcraftYaml(readFileSync(file, 'utf8'), file, projectDir);
  const { arch, mode } = settings;
  const emulate = mode === 'emulated';
  const facts = baseFacts(project.base, file);
  const channel = settings.snapcraftChannel || facts.snapcraftChannel;
  const series = facts.series;
  if (emulate && !settings.image && !series) {
    throw new ConfigurationError(
      `${file} has ${project.base ? `base ${project.base}` : 'no base'}, so the action cannot make an emulated ${arch} build image for it: ` +
        `set 'image' to an LXD image of ${arch} that has snapcraft in it.`,
    );
  }
  if (mode === 'remote') {
    checkRemoteBase(project.base, file);
    // Everything that can be checked before the runner is touched.
    if (!settings.remote) throw new Bug('a remote build without its remote settings');
    checkRemoteRequest(settings.remote);
  }
  const buildEnv = {
    SNAPCRAFT_BUILD_INFO: '1',
    ...(settings.buildUrl
      ? { SNAPCRAFT_IMAGE_INFO: JSON.stringify({ build_url: settings.buildUrl }) }
      : {}),
  };

  let constraints: ConstrainResult | null = null;
  if (settings.constraints) {
    if (!settings.ref)
      throw new ConfigurationError(`Constraints need the branch being built: set 'ref'.`);
    constraints = await io.group('Apply OpenStack constraints', () =>
      constrain({
        project: projectDir,
        ref: settings.ref!,
        requirementsRepo: settings.requirementsRepo,
        constraintsCommit: settings.constraintsCommit,
        exclude: ['auto'],
        series: settings.series,
        pinConflicts: settings.pinConflicts,
        workDir: join(settings.workDir, 'openstack-snap-actions'),
        cache: io.fileCache,
        log: io.log,
      }),
    );
    for (const warning of constraints.warnings) io.warn(warning);
    for (const note of constraints.notes) io.log(note);
  }

  let setup: string[] = [];
  if (shouldPrepare(settings.setup)) {
    const purpose = emulate ? 'emulated-build' : mode === 'remote' ? 'remote-build' : 'build';
    const installs =
      mode === 'remote'
        ? `snapd, snapcraft ${channel}`
        : `snapd, LXD, ${emulate ? 'qemu-user-static, debootstrap' : `snapcraft ${channel}`}`;
    setup = await io.group(`Prepare the runner (${installs})`, async () =>
      prepareRunner(
        runnerSetupPlan({ purpose, snapcraftChannel: channel, ...(await probeRunner()) }),
        io.log,
        io.warn,
      ),
    );
  }

  let buildImage: BuildImage | null = null;
  let image = settings.image || null;
  let instanceConfig = settings.instanceConfig;
  if (emulate && !image) {
    buildImage = await io.group(`Build image: Ubuntu ${series} for ${arch} with snapcraft`, () =>
      ensureBuildImage({
        lxd: new Lxd(),
        arch,
        series: series!,
        snapcraftChannel: channel,
        rootfs: settings.rootfs
          ? { tarball: settings.rootfs }
          : { debootstrap: ubuntuDebootstrap(series!, arch) },
        storeApi: settings.storeApi,
        cache: io.fileCache,
        keySuffix: isoWeek(new Date()),
        trusted: settings.trusted,
        records: settings.imageRecords,
        workDir: join(settings.workDir, 'osa-build-image', arch),
        log: io.log,
      }),
    );
    image = buildImage.alias;
    if (Object.keys(instanceConfig).length === 0) instanceConfig = NO_INIT;
  }

  // Which snapcraft builds, in its own words, for the record (a stand-in says it is one).
  const snapcraftVersion = emulate
    ? null
    : await exec([settings.snapcraft, '--version']).then(
        (r) => (r.code === 0 ? r.stdout.trim().split('\n')[0] || null : null),
        () => null,
      );
  // The snapcraft on the runner must be one that builds the base (emulated builds carry theirs).
  // `snapcraft 8.14.2`; 4.x and 2.43 say `snapcraft, version 4.8.3` (cli/version.py).
  const major = /^snapcraft,?\s+(?:version\s+)?v?(\d+)\./.exec(snapcraftVersion ?? '')?.[1];
  if (
    major !== undefined &&
    !settings.snapcraftChannel &&
    snapcraftBuilds(project.base, Number(major)) === false
  ) {
    throw new ConfigurationError(
      `${snapcraftVersion} cannot build ${file} (${project.base ? `base ${project.base}` : 'no base'}): ` +
        `the base needs snapcraft from ${channel}. Set 'setup: true' to have the action install it, ` +
        `or install it yourself (sudo snap install snapcraft --classic --channel=${channel}).`,
    );
  }
  const result = {
    name: project.name,
    base: project.base,
    snapcraftChannel: channel,
    image,
    buildImage,
    constraints,
    setup,
    snapcraftVersion,
  };

  if (mode === 'remote') {
    const remote = settings.remote!;
    const started = Date.now();
    const snaps = await io.group(`Build ${project.name} for ${arch} on Launchpad`, () =>
      buildRemote({
        projectDir,
        arch,
        snapcraft: settings.snapcraft,
        credentials: remote.credentials,
        acceptPublicUpload: remote.acceptPublicUpload,
        timeoutSeconds: remote.timeoutSeconds,
        rules: remote.rules,
        announce: io.announce,
        ...remoteTree(
          file,
          projectDir,
          arch,
          settings.platform,
          constraints?.constraintsFile ?? null,
        ),
        name: project.name,
        constraints: constraints
          ? `${constraints.constraintsRef?.name ?? 'file'} ${constraints.constraintsCommit ?? ''}`.trim()
          : null,
        env: buildEnv,
        outputDir: settings.outputDir,
        logsDir: settings.logsDir,
        workDir: settings.workDir,
        log: io.log,
      }),
    );
    return { ...result, snaps, wheels: null, seconds: (Date.now() - started) / 1000 };
  }

  // pip's wheels: carried through the container for emulated builds, and craft's shared cache
  // (which snapcraft mounts into its build instance) for native ones.
  const wheelKeys = wheelCacheKeys({
    kind: emulate ? 'pip' : 'craft',
    series: series ?? project.base ?? 'nobase',
    arch,
    constraintsCommit: constraints?.constraintsCommit ?? constraintsDigest(projectDir),
    trusted: settings.trusted,
  });
  const wheelDir = join(settings.workDir, emulate ? 'osa-pip' : 'osa-craft-cache', arch);
  mkdirSync(wheelDir, { recursive: true });
  const wheelsFrom = await restoreWheels(io.prefixCache, wheelDir, wheelKeys);

  const started = Date.now();
  const snaps = await io.group(
    `Build ${project.name} for ${arch}${emulate ? ' (emulated)' : ''}`,
    async () => {
      if (emulate) {
        const built = await buildInContainer({
          lxd: new Lxd(),
          projectDir,
          arch,
          image: image!,
          instanceConfig,
          command: [...(settings.containerCommand ?? ['snapcraft', ...facts.destructive])],
          timeoutMinutes: settings.timeoutMinutes,
          env: { ...buildEnv, PIP_CACHE_DIR: CONTAINER_PIP_CACHE },
          carry: [{ host: wheelDir, container: CONTAINER_PIP_CACHE }],
          outputDir: settings.outputDir,
          logsDir: settings.logsDir,
          log: io.log,
        });
        return built.snaps;
      }
      return buildNative({
        projectDir,
        arch,
        build: facts.build,
        platform: settings.platform,
        snapcraft: settings.snapcraft,
        env: { ...buildEnv, ...facts.buildEnv, CRAFT_SHARED_CACHE: wheelDir },
        outputDir: settings.outputDir,
        logsDir: settings.logsDir,
        log: io.log,
      });
    },
  );
  const seconds = (Date.now() - started) / 1000;
  const wheels = await saveWheels(io.prefixCache, wheelDir, wheelKeys, wheelsFrom);
  return { ...result, snaps, wheels, seconds };
}

/** Without a constraints commit, the constraints file the project carries names the wheels. */
function constraintsDigest(projectDir: string): string | null {
  for (const path of [DEFAULT_CONSTRAINTS_PATH, 'upper-constraints.txt']) {
    const file = join(projectDir, path);
    if (existsSync(file))
      return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  }
  return null;
}

/** What a build made, for the record: snapcraft, base, runner, image, caches, SHA3-384 per snap. */
export function buildManifest(
  result: BuildResult,
  settings: BuildSettings,
  runner: { name: string | null; image: string | null; os: string | null },
): Record<string, unknown> {
  const { buildImage, constraints } = result;
  return {
    snap: result.name,
    base: result.base,
    arch: settings.arch,
    mode: settings.mode,
    emulated: settings.mode === 'emulated',
    snapcraftChannel: result.snapcraftChannel,
    snapcraftVersion: result.snapcraftVersion,
    runner,
    buildUrl: settings.buildUrl || null,
    image: settings.mode === 'emulated' ? result.image : null,
    snapcraft: buildImage?.snapcraft ?? null,
    caches: {
      buildImage: buildImage
        ? {
            alias: buildImage.alias,
            source: buildImage.source,
            key: buildImage.cacheKey,
            saved: buildImage.saved,
          }
        : null,
      wheels: result.wheels,
    },
    seconds: result.seconds,
    constraints: constraints
      ? {
          ref: constraints.constraintsRef?.name ?? null,
          commit: constraints.constraintsCommit,
          excluded: constraints.excluded.filter((e) => e.removed.length).map((e) => e.name),
        }
      : null,
    snaps: result.snaps.map((s) => ({
      file: s.file,
      version: s.version,
      arch: s.arch,
      sha3_384: createHash('sha3-384').update(readFileSync(s.file)).digest('hex'),
    })),
  };
}
