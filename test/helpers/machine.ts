import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './fixtures.js';

/** Programs runner setup runs as root on a hosted runner, each a recording stand-in. */
const PROGRAMS = ['snap', 'lxd', 'iptables', 'chmod', 'apt-get', 'docker', 'sudo'];

/**
 * A stand-in hosted runner (test/standins/machine/record): put `bin` first on PATH and every
 * command runner setup runs is recorded in `log`, failing where MACHINE_FAIL says.
 */
export function standinMachine(): {
  bin: string;
  log: string;
  env: Record<string, string>;
  commands(): string[];
} {
  const bin = tempDir('osa-machine-');
  for (const name of PROGRAMS)
    symlinkSync(join(ROOT, 'test/standins/machine/record'), join(bin, name));
  const log = join(bin, 'commands.log');
  writeFileSync(log, '');
  return {
    bin,
    log,
    env: { PATH: `${bin}:${process.env.PATH}`, MACHINE_LOG: log },
    commands: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l && l !== 'sudo'),
  };
}
