import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError, buildFailure, copySnapcraftLogs } from './failure.js';
import { verifyArch } from './verify.js';
import { ConfigurationError, exec, MissingProgramError } from '../platform/index.js';
import type { SnapInfo } from '../snapcraft/index.js';

export interface NativeBuildOptions {
  readonly projectDir: string;
  readonly arch: string;
  /** snapcraft's arguments for the base (bases.ts): `pack --use-lxd`, `cleanbuild`, ... */
  readonly build: readonly string[];
  /** core24+ platform name, passed to snapcraft so it builds just that one. */
  readonly platform?: string;
  readonly snapcraft: string;
  readonly env: Readonly<Record<string, string>>;
  readonly outputDir: string;
  readonly logsDir: string;
  readonly log?: (line: string) => void;
}

/**
 * snapcraft on the runner, building in an LXD instance of the host's arch the way the base's
 * snapcraft does (`pack --use-lxd`, or 2.43's `cleanbuild` for no base), then arch checks.
 */
export async function buildNative(options: NativeBuildOptions): Promise<SnapInfo[]> {
  const log = options.log ?? (() => {});
  const before = new Set(listSnaps(options.projectDir));
  const args = [...options.build, ...(options.platform ? [`--platform=${options.platform}`] : [])];
  const output: string[] = [];
  let code: number;
  try {
    ({ code } = await exec([options.snapcraft, ...args], {
      cwd: options.projectDir,
      env: options.env,
      onLine: (line) => {
        if (!line) return;
        output.push(line);
        log(line);
      },
    }));
  } catch (error) {
    // A snapcraft that is not there is the runner's setup, the user's to choose; anything else
    // keeps its own kind.
    if (error instanceof MissingProgramError)
      throw new ConfigurationError(
        `${options.snapcraft} is not installed on this runner: set 'setup: true' to have the action install it, or install it yourself.`,
      );
    throw error;
  }
  if (code !== 0) {
    const error = buildFailure(options.arch, output, code, options.logsDir);
    copySnapcraftLogs(join(options.logsDir, 'snapcraft-logs'));
    throw error;
  }
  const made = listSnaps(options.projectDir).filter((f) => !before.has(f));
  if (made.length === 0)
    throw new BuildError(
      `snapcraft ${options.build.join(' ')} succeeded but left no new .snap in ${options.projectDir}`,
      '',
      null,
      null,
    );
  mkdirSync(options.outputDir, { recursive: true });
  const snaps: SnapInfo[] = [];
  for (const name of made) {
    const target = join(options.outputDir, name);
    copyFileSync(join(options.projectDir, name), target);
    snaps.push(await verifyArch(target, options.arch));
  }
  return snaps;
}

function listSnaps(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.snap') && statSync(join(dir, f)).isFile());
}
