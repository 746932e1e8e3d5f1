// How this machine's user runs scripts/setup.sh, for skip messages: the same rule as setup.sh's
// own hint (as is when root, sudo where there is sudo, else "as root").
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when `command` is an executable on PATH (the tests' helpers use it too). */
export function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** `bash scripts/setup.sh ARGS` as this user can run it, e.g. "sudo bash scripts/setup.sh --system". */
export function setupCommand(args = '') {
  const command = `bash scripts/setup.sh${args ? ` ${args}` : ''}`;
  if (process.getuid?.() === 0) return command;
  return onPath('sudo') ? `sudo ${command}` : `as root: ${command}`;
}

/**
 * Why this machine cannot run emulated builds in LXD, with what fixes it; null when it can: LXD
 * there and usable by this user, each of `images`, and each binfmt handler of `handlers`
 * registered with the F flag (the example and the tests ask the same).
 */
export function lxdProblem(images, handlers = ['qemu-aarch64', 'qemu-ppc64le']) {
  if (!onPath('lxc')) return `LXD is not installed (${setupCommand('--system')} installs it)`;
  const info = spawnSync('lxc', ['info'], { encoding: 'utf8', timeout: 10000 });
  if (info.status !== 0) {
    const said = `${info.stderr ?? ''}`.trim().split('\n').pop();
    return /permission denied/i.test(said ?? '')
      ? `LXD is running, but this user may not use it (${said}): add the user to the lxd group, or run as root`
      : `LXD is not running (${setupCommand('--system')} starts it)`;
  }
  for (const image of images)
    if (
      spawnSync('lxc', ['image', 'info', image], { stdio: 'ignore', timeout: 10000 }).status !== 0
    )
      return `LXD image ${image} is missing (${setupCommand('--system')} builds it)`;
  for (const handler of handlers) {
    const path = `/proc/sys/fs/binfmt_misc/${handler}`;
    if (!existsSync(path) || !/^flags: .*F/m.test(readFileSync(path, 'utf8')))
      return `binfmt handler ${handler} with the F flag is not registered (${setupCommand('--system')} registers it)`;
  }
  return null;
}
