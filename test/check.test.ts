import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/fixtures.js';

/**
 * osa-check, as a maintainer runs it in their snap repo: the workflow they copied (or wrote) and
 * their snapcraft.yaml, on GitHub's parser, with the toolkit's plan and matrix bundles.
 */
function snapRepo(workflow: string, extra: Record<string, string> = {}): string {
  const repo = tempDir('osa-check-repo-');
  cpSync(join(ROOT, 'test/snaps/core24-glance'), repo, { recursive: true });
  // A service snap declaring ppc64el, as snap-glance does.
  const yaml = join(repo, 'snap/snapcraft.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('  s390x:', '  ppc64el:'));
  mkdirSync(join(repo, '.github/workflows'), { recursive: true });
  writeFileSync(join(repo, '.github/workflows/snap.yml'), workflow);
  for (const [path, text] of Object.entries(extra)) writeFileSync(join(repo, path), text);
  return repo;
}

function check(repo: string, args: string[] = []) {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/osa-check.mjs'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  return { status: run.status, out: run.stdout + run.stderr };
}

const example = readFileSync(join(ROOT, 'examples/workflows/snap-repo.yml'), 'utf8');

describe('osa-check, run in a snap repo', () => {
  it('prints, for the example, what each event builds where, what it leaves out, and where it publishes', () => {
    const { status, out } = check(snapRepo(example));
    expect(status).toBe(0);
    // A pull request: its checks in the native legs' time; ppc64el (8 h under qemu) left out.
    const pr = out.slice(out.indexOf('pull_request to'), out.indexOf('merge_group'));
    expect(pr).toContain('does not publish');
    expect(pr).toContain('snap / build amd64 (ubuntu-24.04, native, 55 min)');
    expect(pr).toContain('snap / results (ubuntu-24.04, 5 min)');
    expect(pr).not.toContain('build ppc64el');
    expect(pr).toMatch(/note\s+.*ppc64el/);
    // A release push: ppc64el on Launchpad, in its environment; publish in snap-store.
    const push = out.slice(out.indexOf('push to stable/2025.1'));
    expect(push).toMatch(
      /^push to stable\/2025\.1: publishes to 2025\.1\/edge \(in environment snap-store\)/,
    );
    expect(push).toContain(
      'snap / build ppc64el (ubuntu-24.04, remote, 330 min, environment launchpad)',
    );
    expect(out).toContain('No problem found.');
    // Each bundle ran with a summary file, as a runner gives it.
    expect(out).not.toContain('Could not write the job summary');
  }, 120000);

  it('refuses a misspelt input as github.com would, and says which it meant', () => {
    const repo = snapRepo(
      example.replace(
        '      snap-name: keystone',
        '      snap-name: keystone\n      cirros-image: x',
      ),
    );
    const { status, out } = check(repo);
    expect(status).toBe(1);
    expect(out).toContain("has no input 'cirros-image'; did you mean 'cirros-image-url'?");
  }, 60000);

  it('refuses a string where the workflow takes a boolean, and a secret it does not declare', () => {
    const typed = check(
      snapRepo(
        example.replace(
          '      snap-name: keystone',
          "      snap-name: keystone\n      emulate: 'yes'",
        ),
      ),
    );
    expect(typed.status).toBe(1);
    expect(typed.out).toMatch(/input 'emulate' of .* is boolean, given "yes"/);
    const secret = check(
      snapRepo(
        example.replace(
          '    secrets: inherit',
          '    secrets:\n      SNAPCRAFT_STORE_CREDENTIAL: ${{ secrets.X }}',
        ),
      ),
    );
    expect(secret.status).toBe(1);
    expect(secret.out).toContain(
      "declares no secret 'SNAPCRAFT_STORE_CREDENTIAL'; did you mean 'SNAPCRAFT_STORE_CREDENTIALS'?",
    );
  }, 60000);

  it('says which file a workflow calls that was not copied (mirror.yml calls fleet-rebuild.yml)', () => {
    const repo = snapRepo(readFileSync(join(ROOT, 'examples/workflows/mirror.yml'), 'utf8'));
    const { status, out } = check(repo);
    expect(status).toBe(1);
    expect(out).toContain(
      "job 'rebuild' calls ./.github/workflows/fleet-rebuild.yml, which is not in this repository: copy that file too",
    );
  }, 60000);

  it('says what a release push needs up front: a base-less snap cannot go to Launchpad', () => {
    const repo = snapRepo(example);
    cpSync(join(ROOT, 'examples/snap-keystone'), join(repo, 'old'), { recursive: true });
    const { status, out } = check(repo, ['.github/workflows/snap.yml', '--snap', 'old']);
    expect(status).toBe(1);
    expect(out).toMatch(/push to stable\/2025\.1: REFUSED\n\s+matrix: .*ppc64el.*base is none/);
  }, 120000);
});
