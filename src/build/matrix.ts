import { ConfigurationError } from '../platform/index.js';
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
  readonly branch?: string;
}

export interface Skipped {
  readonly arch: string;
  readonly branch?: string;
  readonly reason: string;
}

export interface MatrixOptions {
  /** Architectures wanted (default amd64, arm64, ppc64el). */
  readonly arches: readonly string[];
  /** Self-hosted runner labels per arch, used instead of emulation. */
  readonly selfHosted?: Readonly<Record<string, string[]>>;
  /** Emulate arches without a runner on amd64 (else they are skipped). */
  readonly emulate: boolean;
  readonly branch?: string;
}

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
    const runner = pickRunner(target, options);
    if (!runner) {
      skipped.push({
        arch,
        ...branch,
        reason: `no runner: no hosted or self-hosted ${target.buildOn.join('/')} runner and emulation is off`,
      });
      continue;
    }
    include.push({
      arch: target.buildFor,
      platform: target.platform,
      'build-on': runner.buildOn,
      runner: runner.runner,
      emulate: runner.emulate,
      ...branch,
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

function pickRunner(
  target: BuildTarget,
  options: MatrixOptions,
): { runner: string | string[]; buildOn: string; emulate: boolean } | null {
  // Prefer a native hosted runner, then a self-hosted one, for any arch the target builds on.
  for (const arch of target.buildOn) {
    const hosted = HOSTED_RUNNERS[arch];
    if (hosted) return { runner: hosted, buildOn: arch, emulate: false };
  }
  for (const arch of target.buildOn) {
    const labels = options.selfHosted?.[arch];
    if (labels?.length) return { runner: labels, buildOn: arch, emulate: false };
  }
  if (!options.emulate) return null;
  // Build on the amd64 runner inside an emulated container of the target's arch.
  return { runner: HOSTED_RUNNERS.amd64!, buildOn: target.buildOn[0]!, emulate: true };
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
