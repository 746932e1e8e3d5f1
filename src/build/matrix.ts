import { ConfigurationError } from '../platform/index.js';
import { REMOTE_BASES } from './remote.js';
import {
  type BuildTarget,
  checkArch,
  snapArchitectures,
  type SnapcraftProject,
} from '../snapcraft/index.js';

/** GitHub's hosted runners by architecture: native builds where GitHub has them. */
export const HOSTED_RUNNERS: Readonly<Record<string, string>> = {
  amd64: 'ubuntu-24.04',
  arm64: 'ubuntu-24.04-arm',
};

export interface MatrixEntry {
  /** The architecture of the snap produced. */
  readonly arch: string;
  readonly platform: string;
  /** The architecture the build runs on (differs from arch only for cross builds). */
  readonly 'build-on': string;
  /** `runs-on` for the job: a hosted label, or a self-hosted label list. */
  readonly runner: string | string[];
  /** True when the build runs under qemu-user emulation on an amd64 runner. */
  readonly emulate: boolean;
  /** Where the build runs: on the runner, emulated on it, or on Launchpad's builders. */
  readonly mode: BuildMode;
  /** For remote legs, the seconds the build may wait on Launchpad (within the job's limit). */
  readonly 'launchpad-timeout'?: number;
  /** Why the leg is built the way it is, when that is not the first choice (for the summary). */
  readonly reason?: string;
  readonly branch?: string;
  /** The leg's job limit (`timeout-minutes`), by mode and event (LegTiming). */
  readonly 'job-minutes'?: number;
  /** For emulated legs, the build's own limit inside the job, so a leg that runs out ends with its logs. */
  readonly 'build-minutes'?: number;
}

export type BuildMode = 'native' | 'emulated' | 'remote';
export const BUILD_MODES: readonly BuildMode[] = ['native', 'emulated', 'remote'];

export interface Skipped {
  readonly arch: string;
  readonly branch?: string;
  readonly reason: string;
  /** Skipped as the caller asked (a remote arch on a pull request): a notice, not a warning. */
  readonly notice?: boolean;
}

export interface MatrixOptions {
  /** Architectures wanted (default amd64, arm64, ppc64el). */
  readonly arches: readonly string[];
  /** Self-hosted runner labels per arch, used instead of emulation. */
  readonly selfHosted?: Readonly<Record<string, string[]>>;
  /** Emulate arches without a runner on amd64 (else they are skipped). */
  readonly emulate: boolean;
  /** Arches without a runner that Launchpad builds (snapcraft remote-build), and when it may. */
  readonly remote?: RemoteOptions;
  /** How long legs may take, and how long an emulated one would (default: no limits are set). */
  readonly timing?: LegTiming;
  readonly branch?: string;
}

/**
 * Time, sized by real builds and limits. An emulated build is estimated as the native build's
 * time times EMULATION_SLOWDOWN; a leg that would not finish in its allowance is not started:
 * on a pull request or in a merge queue it is skipped with a notice (the verdict is due within
 * `changeMinutes`); on a run that publishes it is refused before anything builds, saying what to
 * do instead (remote, a self-hosted runner, or fewer arches).
 */
export interface LegTiming {
  /** How long the snap takes to build natively, in minutes (an estimate the caller gives). */
  readonly nativeMinutes: number;
  /** The job limits of native and emulated legs on runs that are not change checks. */
  readonly nativeJobMinutes: number;
  readonly emulatedJobMinutes: number;
  /** Pull requests and merge queues: every leg's verdict within this (a merge queue's status check times out at 60 by default). */
  readonly changeMinutes: number;
  /** This run checks a proposed change (pull request, merge queue). */
  readonly change: boolean;
  /** This run publishes what it builds: it may not leave an arch out. */
  readonly publishes: boolean;
}

/**
 * How much slower a build runs under qemu-user than natively: a service snap that builds in 20
 * minutes takes 8 to 14 hours emulated (24 to 42 times), the low end of which plans a leg.
 */
export const EMULATION_SLOWDOWN = 24;
/** What an emulated leg spends besides the build: its image, the snapcraft unpack, the checks. */
export const EMULATED_SETUP_MINUTES = 15;

export interface RemoteOptions {
  readonly arches: readonly string[];
  /** Launchpad credentials reach the build legs (LAUNCHPAD_CREDENTIALS is set). */
  readonly credentials: boolean;
  /** The caller accepted that Launchpad builds from a public upload of the project. */
  readonly acceptPublicUpload: boolean;
  /** The event may use secrets: pull requests and merge queues may not (release/events.ts). */
  readonly trusted: boolean;
  /** The repository is private: Launchpad's builds are public, so nothing goes there. */
  readonly privateRepository?: boolean;
  /** This run publishes what it builds (the plan's decision): it may not leave an arch out. */
  readonly publishes: boolean;
  /** A remote arch that cannot go to Launchpad is emulated (when emulation is on) or skipped. */
  readonly fallback: RemoteFallback;
  /** The remote leg's job limit; the wait on Launchpad leaves REMOTE_MARGIN_MINUTES of it. */
  readonly timeoutMinutes: number;
}

export type RemoteFallback = 'emulate' | 'skip';
export const REMOTE_FALLBACKS: readonly RemoteFallback[] = ['emulate', 'skip'];

/** What a remote leg needs besides Launchpad's wait: snapcraft's install, constraints, download, checks. */
export const REMOTE_MARGIN_MINUTES = 20;
/** A hosted job's limit. */
const JOB_LIMIT_MINUTES = 360;

export const DEFAULT_ARCHES = ['amd64', 'arm64', 'ppc64el'];

/**
 * One build per wanted architecture the snap can be built for, each on the best runner: native
 * hosted, a self-hosted label, or the amd64 runner under emulation. Wanted arches the snap cannot
 * build for are returned as skipped, with the reason.
 */
export function buildMatrix(
  project: SnapcraftProject,
  options: MatrixOptions,
): { include: MatrixEntry[]; skipped: Skipped[] } {
  for (const arch of options.arches) checkArch(arch, 'arches input');
  if (options.remote) checkRemote(options.remote, options.arches);
  const { declared, targets } = snapArchitectures(project);
  const include: MatrixEntry[] = [];
  const skipped: Skipped[] = [];
  const branch = options.branch ? { branch: options.branch } : {};
  for (const arch of options.arches) {
    const matching: BuildTarget[] = declared
      ? targets.filter((t) => t.buildFor === arch || (t.buildFor === 'all' && arch === 'amd64'))
      : [{ platform: arch, buildOn: [arch], buildFor: arch }];
    if (matching.length === 0) {
      const has = [...new Set(targets.map((t) => t.buildFor))].join(', ');
      skipped.push({ arch, ...branch, reason: `snapcraft.yaml builds only for ${has}` });
      continue;
    }
    const target = matching[0]!;
    const pick = pickRunner(target, arch, project.base, options);
    if ('skip' in pick) {
      skipped.push({
        arch,
        ...branch,
        reason: pick.skip,
        ...(pick.notice ? { notice: true } : {}),
      });
      continue;
    }
    include.push({
      arch: target.buildFor,
      platform: target.platform,
      'build-on': pick.buildOn,
      runner: pick.runner,
      emulate: pick.mode === 'emulated',
      mode: pick.mode,
      ...(pick.mode === 'remote'
        ? { 'launchpad-timeout': (options.remote!.timeoutMinutes - REMOTE_MARGIN_MINUTES) * 60 }
        : {}),
      ...(pick.reason ? { reason: pick.reason } : {}),
      ...branch,
      ...legMinutes(pick.mode, options),
    });
  }
  // What snapcraft.yaml declares but the caller did not ask for is said too, not dropped.
  const unrequested = declared
    ? [...new Set(targets.map((t) => t.buildFor))].filter(
        (arch) => arch !== 'all' && !options.arches.includes(arch),
      )
    : [];
  for (const arch of unrequested) {
    skipped.push({
      arch,
      ...branch,
      reason: `declared in snapcraft.yaml but not requested (add it to 'arches')`,
    });
  }
  return { include, skipped };
}

/** A leg's job limit and, for emulated legs, its build's own (none without timing). */
function legMinutes(
  mode: BuildMode,
  options: MatrixOptions,
): { 'job-minutes'?: number; 'build-minutes'?: number } {
  const timing = options.timing;
  if (!timing) return {};
  const cap = (minutes: number): number =>
    timing.change ? Math.min(minutes, timing.changeMinutes) : minutes;
  if (mode === 'remote') return { 'job-minutes': options.remote!.timeoutMinutes };
  if (mode === 'native') return { 'job-minutes': cap(timing.nativeJobMinutes) };
  const job = cap(timing.emulatedJobMinutes);
  return { 'job-minutes': job, 'build-minutes': Math.max(1, job - EMULATED_SETUP_MINUTES) };
}

/**
 * Whether an emulated leg of `arch` fits its allowance: null when it does (or nothing says how
 * long it takes); else why not, as a skip or, on a run that publishes, a refusal.
 */
function emulationFits(arch: string, options: MatrixOptions, alternative: string): Pick | null {
  const timing = options.timing;
  if (!timing) return null;
  const estimate = timing.nativeMinutes * EMULATION_SLOWDOWN + EMULATED_SETUP_MINUTES;
  const allowance = timing.change ? timing.changeMinutes : timing.emulatedJobMinutes;
  if (estimate <= allowance) return null;
  const hours = (estimate / 60).toFixed(1);
  const why =
    `${arch} under qemu-user would take about ${hours} hours (native-build-minutes ${timing.nativeMinutes} × ${EMULATION_SLOWDOWN}, ` +
    `the low end measured for a service snap), past the ${allowance} minutes ${timing.change ? 'a pull request or merge queue gives its checks (change-timeout-minutes)' : 'an emulated leg may run (emulated-timeout-minutes; a hosted job stops at 360)'}`;
  if (timing.publishes)
    throw new ConfigurationError(
      `${why}, and this run would publish without ${arch}: ${alternative}.`,
    );
  const releaseToo =
    timing.change && estimate > timing.emulatedJobMinutes
      ? ` (a release run would refuse it too: ${alternative})`
      : '';
  return { skip: `${why}: not built here${releaseToo}`, notice: timing.change };
}

function checkRemote(remote: RemoteOptions, arches: readonly string[]): void {
  for (const arch of remote.arches) {
    checkArch(arch, 'remote-arches input');
    if (!arches.includes(arch))
      throw new ConfigurationError(
        `'remote-arches' names ${arch}, which 'arches' does not ask for: add ${arch} to 'arches' or remove it from 'remote-arches'.`,
      );
  }
  if (!remote.acceptPublicUpload)
    throw new ConfigurationError(
      `'remote-arches' (${remote.arches.join(' ')}) builds on Launchpad, from a public upload of the project: set 'launchpad-accept-public-upload: true' to accept that, or empty 'remote-arches'.`,
    );
  if (!REMOTE_FALLBACKS.includes(remote.fallback))
    throw new ConfigurationError(
      `'remote-fallback' must be ${REMOTE_FALLBACKS.join(' or ')}, not '${remote.fallback}'.`,
    );
  const least = REMOTE_MARGIN_MINUTES + 10;
  if (
    !Number.isInteger(remote.timeoutMinutes) ||
    remote.timeoutMinutes < least ||
    remote.timeoutMinutes > JOB_LIMIT_MINUTES
  )
    throw new ConfigurationError(
      `'remote-timeout-minutes' must be a whole number from ${least} to ${JOB_LIMIT_MINUTES} (a hosted job's limit), not '${remote.timeoutMinutes}': ` +
        `the leg waits on Launchpad for all but ${REMOTE_MARGIN_MINUTES} minutes of it.`,
    );
}

type Pick =
  | { runner: string | string[]; buildOn: string; mode: BuildMode; reason?: string }
  | { skip: string; notice?: boolean };

function pickRunner(
  target: BuildTarget,
  arch: string,
  base: string | null,
  options: MatrixOptions,
): Pick {
  const remote = options.remote?.arches.includes(arch) ? options.remote : undefined;
  const onRunner = remote ? { reason: 'has a runner, so remote-arches does not apply' } : {};
  // Prefer a native hosted runner, then a self-hosted one, for any arch the target builds on.
  for (const on of target.buildOn) {
    const hosted = HOSTED_RUNNERS[on];
    if (hosted) return { runner: hosted, buildOn: on, mode: 'native', ...onRunner };
  }
  for (const on of target.buildOn) {
    const labels = options.selfHosted?.[on];
    if (labels?.length) return { runner: labels, buildOn: on, mode: 'native', ...onRunner };
  }
  // The amd64 runner drives a remote build, or runs an emulated container of the target's arch.
  const driver = HOSTED_RUNNERS.amd64!;
  const buildOn = target.buildOn[0]!;
  if (remote) {
    const why = !REMOTE_BASES.includes(base ?? '')
      ? `its base is ${base ?? 'none'} and Launchpad builds ${REMOTE_BASES.join(', ')} only (snapcraft's current remote builder)`
      : remote.privateRepository
        ? 'this repository is private and what Launchpad builds is public'
        : !remote.trusted
          ? 'pull requests and merge queues get no Launchpad credentials'
          : !remote.credentials
            ? "no LAUNCHPAD_CREDENTIALS reached this run (keep it in a deployment environment named by remote-environment, with the call's secrets: inherit, or pass it in secrets:)"
            : null;
    if (!why) return { runner: driver, buildOn, mode: 'remote', reason: "Launchpad's builders" };
    const asked = `remote-arches asks Launchpad for ${arch}, but ${why}`;
    if (remote.fallback === 'emulate' && options.emulate) {
      const instead = `give a self-hosted ${arch} runner (self-hosted), or leave ${arch} out of 'arches'`;
      const tooLong = emulationFits(
        arch,
        options,
        !REMOTE_BASES.includes(base ?? '')
          ? `Launchpad cannot build it either (${why}): ${instead}`
          : `${asked}: fix that, ${instead}`,
      );
      if (tooLong)
        return 'skip' in tooLong
          ? {
              ...tooLong,
              skip: `${asked}, and ${tooLong.skip}; release runs build it on Launchpad`,
            }
          : tooLong;
      return {
        runner: driver,
        buildOn,
        mode: 'emulated',
        reason: `${asked}: emulated instead (remote-fallback: emulate)`,
      };
    }
    // A run that publishes may not leave the arch out; any other may, saying so.
    if (remote.publishes)
      throw new ConfigurationError(
        `${asked}, and this run would publish without ${arch}: fix that, or set 'remote-fallback: emulate'${options.emulate ? '' : " and 'emulate: true'"}.`,
      );
    return {
      skip: `${asked}: not built (${remote.fallback === 'skip' ? 'remote-fallback: skip' : 'emulation is off'})`,
      // As the caller chose on a pull request; a warning where secrets were expected.
      notice: !remote.trusted,
    };
  }
  if (!options.emulate)
    return {
      skip: `no runner: no hosted or self-hosted ${target.buildOn.join('/')} runner and emulation is off`,
    };
  const tooLong = emulationFits(
    arch,
    options,
    `build it on Launchpad (remote-arches: ${arch}, with LAUNCHPAD_CREDENTIALS), give a self-hosted ${arch} runner (self-hosted), or leave ${arch} out of 'arches'`,
  );
  if (tooLong) return tooLong;
  return { runner: driver, buildOn, mode: 'emulated' };
}

/** `ppc64el=self-hosted,power9` lines -> labels per arch. */
export function parseSelfHosted(text: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const match = /^([a-z0-9]+)\s*[=:]\s*(.+)$/.exec(line);
    if (!match)
      throw new ConfigurationError(
        `self-hosted line ${index + 1} is not 'arch=label[,label]' (e.g. ppc64el=self-hosted,power9).`,
      );
    result[checkArch(match[1]!, 'self-hosted input')] = match[2]!.split(/[,\s]+/).filter(Boolean);
  });
  return result;
}
