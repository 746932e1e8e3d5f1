import { expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBundle } from './helpers/run-action.js';
import { makeSnap } from './helpers/snaps.js';
import { tempDir } from './helpers/fixtures.js';
import { describeWhen, SQUASHFS } from './helpers/system.js';

const withSnaps = describeWhen(SQUASHFS, 'smoke-test action tests with real .snap files');

withSnaps('the smoke-test action, from its bundle', () => {
  it('skips an emulated build, saying why', async () => {
    const run = await runBundle('smoke-test', { snap: '/nonexistent.snap', emulated: 'true' });
    expect(run.status).toBe(0);
    expect(run.outputs.result).toBe('skipped');
    expect(run.summary).toContain('Smoke test skipped');
    expect(run.stdout).toContain('::notice::smoke test skipped: emulated architecture');
  });

  it('lists the upgrade plan for a glance build on stable/2025.1, companions from 2025.1/edge', async () => {
    const snap = makeSnap(tempDir(), { name: 'glance', version: '30.0.0', arch: 'amd64' });
    const cirros = join(tempDir(), 'cirros.qcow2');
    writeFileSync(cirros, 'not booted in a dry run');
    const run = await runBundle(
      'smoke-test',
      { snap, level: 'upgrade', 'dry-run': 'true', 'cirros-image': cirros },
      { GITHUB_REF_NAME: 'stable/2025.1' },
    );
    expect(run.status).toBe(0);
    expect(run.outputs.result).toBe('dry-run');
    expect(run.stdout).toContain('would run: install keystone from 2025.1/edge');
    expect(run.stdout).toContain('would run: install glance from 2025.1/edge');
    expect(run.stdout).toContain('would run: refresh glance to the new build');
    expect(run.stdout).toContain('would run: smoke after revert: boot an instance and reach it');
    // A new series' track is empty until its first builds publish: the previous release, then latest.
    expect(run.summary).toContain(
      'Companion snaps from the first of <code>2025.1/edge</code>, <code>2024.2/edge</code>, <code>latest/edge</code> that has them',
    );
  });

  it("with an explicit track, falls back as that series' branch would: the previous release's track, then latest", async () => {
    const snap = makeSnap(tempDir(), { name: 'glance', version: '30.0.0', arch: 'amd64' });
    const run = await runBundle('smoke-test', {
      snap,
      level: 'deploy',
      track: '2025.1',
      'dry-run': 'true',
    });
    expect(run.status).toBe(0);
    expect(run.summary).toContain(
      'Companion snaps from the first of <code>2025.1/edge</code>, <code>2024.2/edge</code>, <code>latest/edge</code> that has them',
    );
  });

  it('skips a snap the all-in-one cloud has no recipe for, with a notice, not a failure', async () => {
    const snap = makeSnap(tempDir(), { name: 'cinder', version: '26.0.0', arch: 'amd64' });
    const run = await runBundle(
      'smoke-test',
      { snap, level: 'deploy' },
      { GITHUB_REF_NAME: 'master' },
    );
    expect(run.status).toBe(0);
    expect(run.outputs.result).toBe('skipped');
    expect(run.stdout).toContain(
      '::notice::smoke test skipped: the all-in-one cloud has no recipe for cinder (it tests keystone, placement, nova, neutron, glance, nova-hypervisor)',
    );
  });

  it('takes companions from the track publish would use (track-map)', async () => {
    const snap = makeSnap(tempDir(), { name: 'nova', version: '32.0.0', arch: 'amd64' });
    const run = await runBundle(
      'smoke-test',
      { snap, level: 'deploy', 'dry-run': 'true', 'track-map': 'master=2026.2' },
      { GITHUB_REF_NAME: 'main' },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('would run: install keystone from 2026.2/edge');
  });

  it.each([
    [{ level: 'quick' }, /'level' must be deploy, smoke or upgrade, not 'quick'/],
    [
      { companions: 'horizon=/tmp/h.snap' },
      /'companions' entry 'horizon=\/tmp\/h\.snap' is not service=path/,
    ],
  ])('refuses %j', async (inputs, message) => {
    const snap = makeSnap(tempDir(), { name: 'keystone', version: '27.0.0', arch: 'amd64' });
    const run = await runBundle(
      'smoke-test',
      { snap, 'dry-run': 'true', ...inputs },
      { GITHUB_REF_NAME: 'master' },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(message);
  });
});
