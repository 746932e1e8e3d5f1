// What the example and the tests say when LXD cannot run emulated builds: the real cause, and
// what fixes it (a user outside the lxd group is not helped by the setup script).
import { expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { lxdProblem } from '../scripts/lib/setup-hint.mjs';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { describeWhen, nodeAsAnotherUser } from './helpers/system.js';

const asRoot = process.getuid?.() === 0;
describeWhen(
  {
    ok: asRoot && lxdProblem([], []) === null,
    reason: asRoot ? 'LXD is not usable here, even as root' : 'needs root, to ask as another user',
  },
  'LXD problems as another user',
)('lxdProblem', () => {
  it('tells a user outside the lxd group that, and not to run the setup script', () => {
    const home = tempDir('osa-home-');
    chmodSync(home, 0o777);
    const said = execFileSync(
      ...nodeAsAnotherUser([
        '--input-type=module',
        '-e',
        `import { lxdProblem } from ${JSON.stringify(join(ROOT, 'scripts/lib/setup-hint.mjs'))}; console.log(lxdProblem(['osa-arm64']));`,
      ]),
      { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } },
    );
    expect(said).toMatch(
      /^LXD is running, but this user may not use it \(.*permission denied.*\): add the user to the lxd group, or run as root$/m,
    );
    expect(said).not.toContain('setup.sh');
  });

  it('names an image that is not there, and what builds it', () => {
    expect(lxdProblem(['osa-no-such-image'], [])).toMatch(
      /^LXD image osa-no-such-image is missing \((sudo )?bash scripts\/setup.sh --system builds it\)$/,
    );
  });
});
