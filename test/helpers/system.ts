import { describe } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onPath, setupCommand } from '../../scripts/lib/setup-hint.mjs';
import { tempDir } from './fixtures.js';

/**
 * Says on stderr that tests are skipped, and why: a skipped check must never look like a passed
 * one. Not console.warn: Jest drops the console output of a file whose tests were all skipped.
 */
export function announceSkip(what: string, reason: string): void {
  process.stderr.write(`SKIPPED: ${what}: ${reason}\n`);
}

/** Whether this machine can run some tests, and why not when it cannot. */
export interface Capability {
  readonly ok: boolean;
  readonly reason: string;
}

export { onPath };

/** Programs the tests run on the host (not npm packages); scripts/setup.sh installs them. */
export function toolsCapability(commands: readonly string[]): Capability {
  const missing = commands.filter((c) => !onPath(c));
  return missing.length === 0
    ? { ok: true, reason: '' }
    : {
        ok: false,
        reason: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed (${setupCommand()} installs ${missing.length > 1 ? 'them' : 'it'})`,
      };
}

/** Real .snap files need squashfs-tools on the host. */
export const SQUASHFS = toolsCapability(['mksquashfs', 'unsquashfs']);

/** `describe` when the capability is there; else `describe.skip`, with the reason announced. */
export function describeWhen(capability: Capability, what: string): typeof describe {
  if (capability.ok) return describe;
  announceSkip(what, capability.reason);
  return describe.skip as typeof describe;
}

/** What this machine can run for system tests, and why not when it cannot. */
export function lxdCapability(images: string[]): Capability {
  try {
    execFileSync('lxc', ['info'], { stdio: 'pipe', timeout: 10000 });
  } catch (error) {
    const said = String((error as { stderr?: Buffer }).stderr ?? '');
    return {
      ok: false,
      reason: /permission denied/i.test(said)
        ? `LXD is running, but this user may not use it (${said.trim().split('\n').pop()}): add the user to the lxd group, or run the tests as root`
        : `LXD is not running (${setupCommand('--system')} starts it)`,
    };
  }
  for (const image of images) {
    try {
      execFileSync('lxc', ['image', 'info', image], { stdio: 'ignore', timeout: 10000 });
    } catch {
      return {
        ok: false,
        reason: `LXD image ${image} is missing (${setupCommand('--system')} builds it)`,
      };
    }
  }
  for (const handler of ['qemu-aarch64', 'qemu-ppc64le']) {
    const path = `/proc/sys/fs/binfmt_misc/${handler}`;
    if (!existsSync(path) || !/^flags: .*F/m.test(readFileSync(path, 'utf8'))) {
      return {
        ok: false,
        reason: `binfmt handler ${handler} with the F flag is not registered (${setupCommand('--system')} registers it)`,
      };
    }
  }
  return { ok: true, reason: '' };
}

/** The root filesystem tarball of a local LXD image (a split image's non-meta file). */
export function exportRootfs(image: string): string {
  const dir = tempDir('osa-exported-');
  execFileSync('lxc', ['image', 'export', image, `${dir}/`]);
  return join(
    dir,
    readdirSync(dir).find((f) => !f.startsWith('meta-'))!,
  );
}

/** Deletes an LXD image if it is there. */
export function deleteImage(alias: string): void {
  spawnSync('lxc', ['image', 'delete', alias], { stdio: 'ignore' });
}
