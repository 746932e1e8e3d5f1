import { describe } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lxdProblem, onPath, setupCommand } from '../../scripts/lib/setup-hint.mjs';
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

/**
 * Node with `args`, as another user than root would run it: as nobody (through setpriv) when this
 * process is root, which would search and open every file; as is otherwise.
 */
export function nodeAsAnotherUser(args: readonly string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? [
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, ...args],
      ]
    : [process.execPath, [...args]];
}

/** What this machine can run for system tests, and why not when it cannot. */
export function lxdCapability(images: string[]): Capability {
  const problem = lxdProblem(images);
  return { ok: problem === null, reason: problem ?? '' };
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
