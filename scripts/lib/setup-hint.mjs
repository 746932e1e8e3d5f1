// How this machine's user runs scripts/setup.sh, for skip messages: the same rule as setup.sh's
// own hint (as is when root, sudo where there is sudo, else "as root").
import { accessSync, constants } from 'node:fs';
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
