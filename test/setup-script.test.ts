// scripts/setup.sh's options, as a newcomer types them: --check only reports, in any order with
// --system, and --check --system reports the system-test and cloud packages too. dpkg-query, apt-get,
// sudo, id and the host tools are stand-ins here, so nothing is installed or changed.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/fixtures.js';

/**
 * Runs setup.sh with stand-ins that make it harmless and machine-independent: dpkg-query reports
 * `missing` as not installed; the host tools are there (--check never runs them); `id` says a
 * user, `sudo` refuses and `apt-get` records its call and fails, so nothing can be installed
 * even by a setup.sh that ignored --check.
 */
function setup(args: string[], missing: string[]) {
  const bin = tempDir('osa-setup-bin-');
  const aptLog = join(bin, 'apt-get.log');
  const standIn = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  // dpkg-query -W -f='${Status}' PKG: "install ok installed", or exit 1 as for an unknown package.
  standIn(
    'dpkg-query',
    `for pkg; do :; done\ncase " $OSA_MISSING " in *" $pkg "*) exit 1 ;; esac\nprintf 'install ok installed'`,
  );
  for (const tool of ['git', 'mksquashfs', 'unsquashfs', 'shellcheck']) standIn(tool, 'exit 0');
  standIn('id', 'echo 1000');
  standIn('sudo', 'exit 1');
  standIn('apt-get', `echo "apt-get $*" >> '${aptLog}'\nexit 1`);
  const run = spawnSync('bash', [join(ROOT, 'scripts/setup.sh'), ...args], {
    encoding: 'utf8',
    timeout: 30000,
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: bin, OSA_MISSING: missing.join(' ') },
  });
  return {
    status: run.status,
    said: `${run.stdout}${run.stderr}`,
    apt: existsSync(aptLog) ? readFileSync(aptLog, 'utf8') : '',
  };
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
      expect(run.apt).toBe('');
      // Packages are not all the system tests need: the stand-in id says a user, not root.
      expect(run.said).toMatch(/^setup: note: as this user the real cloud's tests are skipped/m);
    },
  );

  it('--check alone is about the host tools only', () => {
    const run = setup(['--check'], ['lxd', 'mariadb-server']);
    expect(run).toEqual({ status: 0, said: 'setup: nothing missing\n', apt: '' });
  });

  it('refuses an unknown option wherever it stands, before doing anything', () => {
    // lxd 'missing' with no way to install it: a setup.sh that read on would stop there.
    const run = setup(['--system', '--sytem'], ['lxd']);
    expect(run.status).toBe(2);
    expect(run.said).toBe(
      "setup: unknown option '--sytem' (use --system, --check, both or nothing)\n",
    );
  });
});
