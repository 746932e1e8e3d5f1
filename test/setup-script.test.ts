// scripts/setup.sh's options, as a newcomer types them: --check only reports, in any order with
// --system, and --check --system reports the system-test and cloud packages too. dpkg-query is a
// stand-in here (it says which packages are installed), so nothing is installed or changed.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/fixtures.js';

/** Runs setup.sh with a dpkg-query stand-in that reports `missing` as not installed. */
function setup(args: string[], missing: string[]) {
  const bin = tempDir('osa-setup-bin-');
  // dpkg-query -W -f='${Status}' PKG: "install ok installed", or exit 1 as for an unknown package.
  writeFileSync(
    join(bin, 'dpkg-query'),
    `#!/bin/sh\nfor pkg; do :; done\ncase " $OSA_MISSING " in *" $pkg "*) exit 1 ;; esac\nprintf 'install ok installed'\n`,
  );
  chmodSync(join(bin, 'dpkg-query'), 0o755);
  const run = spawnSync('bash', [join(ROOT, 'scripts/setup.sh'), ...args], {
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: bin, OSA_MISSING: missing.join(' ') },
  });
  return { status: run.status, said: `${run.stdout}${run.stderr}` };
}

describe('scripts/setup.sh', () => {
  it.each([[['--check', '--system']], [['--system', '--check']]])(
    '%j lists the missing system-test and cloud packages and installs nothing',
    (args) => {
      const run = setup(args, ['lxd', 'mariadb-server']);
      expect(run.status).toBe(1);
      expect(run.said).toMatch(/^setup: missing: .*lxd \(system tests\)/m);
      expect(run.said).toContain("mariadb-server (the real cloud's tests)");
      expect(run.said).not.toContain('installing');
    },
  );

  it('--check alone is about the host tools only', () => {
    const run = setup(['--check'], ['lxd', 'mariadb-server']);
    expect(run).toEqual({ status: 0, said: 'setup: nothing missing\n' });
  });

  it('refuses an unknown option wherever it stands, before doing anything', () => {
    const run = setup(['--system', '--sytem'], []);
    expect(run.status).toBe(2);
    expect(run.said).toBe(
      "setup: unknown option '--sytem' (use --system, --check, both or nothing)\n",
    );
  });
});
