import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../scripts/lib/git-fixtures.mjs';
import { junitXml, runSteps, type Step } from '../src/smoke/engine.js';
import { collectLogs } from '../src/smoke/collect.js';
import { deploymentSteps, type DeployOptions } from '../src/smoke/deploy.js';
import { fixture, listFiles, ROOT, tempDir } from './helpers/fixtures.js';
import { makeSnap } from './helpers/snaps.js';
import { describeWhen, SQUASHFS } from './helpers/system.js';

const withSnaps = describeWhen(SQUASHFS, 'smoke deployment runs with real .snap files');

const names = (steps: Step[]) => steps.map((s) => s.name);
const cirros = join(tempDir('osa-cirros-'), 'cirros.qcow2');
writeFileSync(cirros, 'not booted here');
const base = (extra: Partial<DeployOptions> = {}): DeployOptions => ({
  level: 'deploy',
  snap: 'keystone',
  file: '/tmp/keystone_27.0.0_amd64.snap',
  track: '2025.1',
  adminPassword: 'a-password-of-this-run',
  cirrosImage: cirros,
  etcDir: join(ROOT, 'smoke/etc'),
  waitMs: 120000,
  asRoot: true,
  ...extra,
});

describe('the all-in-one deployment, as snap-test ordered it', () => {
  it('deploys infrastructure, then keystone, placement, nova, neutron, glance and nova-hypervisor, waiting on each API, then maps the compute host', () => {
    expect(names(deploymentSteps(base()))).toEqual([
      'install infrastructure',
      'rabbitmq user',
      'databases',
      'external bridge br-ex',
      'install keystone (this build)',
      'configure keystone',
      'db sync keystone',
      'restart keystone',
      'wait for keystone API',
      'keystone bootstrap',
      'install placement from 2025.1/edge',
      'configure placement',
      'db sync placement',
      'restart placement',
      'wait for placement API',
      'register placement in keystone',
      'install nova from 2025.1/edge',
      'configure nova',
      'db sync nova',
      'restart nova',
      'wait for nova API',
      'register nova in keystone',
      'install neutron from 2025.1/edge',
      'configure neutron',
      'db sync neutron',
      'restart neutron',
      'wait for neutron API',
      'register neutron in keystone',
      'install glance from 2025.1/edge',
      'configure glance',
      'db sync glance',
      'restart glance',
      'wait for glance API',
      'register glance in keystone',
      'install nova-hypervisor from 2025.1/edge',
      'configure nova-hypervisor',
      'restart nova-hypervisor',
      'wait for nova-hypervisor services',
      'discover compute hosts',
    ]);
  });

  it('before Stein, registers the placement that the nova snap served, and installs no placement snap', () => {
    const ocata = names(deploymentSteps(base({ track: 'ocata' })));
    expect(ocata.filter((n) => n.includes('placement'))).toEqual([
      'register placement in keystone',
    ]);
    expect(ocata.indexOf('register placement in keystone')).toBe(
      ocata.indexOf('register nova in keystone') + 1,
    );
  });

  it('smoke boots an instance and reaches it; upgrade goes store revision -> this build -> revert, testing each and keeping a server across both', () => {
    expect(names(deploymentSteps(base({ level: 'smoke' }))).slice(-2)).toEqual([
      'smoke: image, flavor, networks and router',
      'smoke: boot an instance and reach it',
    ]);
    const upgrade = names(deploymentSteps(base({ level: 'upgrade', snap: 'glance' })));
    expect(upgrade).toContain('install glance from 2025.1/edge');
    expect(upgrade.slice(-11)).toEqual([
      'smoke: image, flavor, networks and router',
      'smoke: boot an instance and reach it',
      'boot a server to keep across the upgrade',
      'refresh glance to the new build',
      'wait for glance API',
      'the server, image and network survived the refresh',
      'smoke after refresh: boot an instance and reach it',
      'revert glance',
      'wait for glance API',
      'the server, image and network survived the revert',
      'smoke after revert: boot an instance and reach it',
    ]);
  });

  it("drops snap-test's config snippets into /var/snap/<snap>/common/etc/", async () => {
    const root = tempDir('osa-fsroot-');
    const configure = deploymentSteps(base({ snap: 'nova', asRoot: false, fsRoot: root })).find(
      (s) => s.name === 'configure nova-hypervisor',
    )!;
    const suite = await runSteps('configure', [configure]);
    expect(suite.passed).toBe(true);
    const target = join(root, 'var/snap/nova-hypervisor/common/etc');
    expect(listFiles(target)).toEqual(listFiles(join(ROOT, 'smoke/etc/snap-nova-hypervisor')));
    expect(readFileSync(join(target, 'neutron/plugins/ml2/openvswitch_agent.ini'), 'utf8')).toBe(
      readFileSync(
        fixture(
          'openstack-snaps/snap-test/master/etc/snap-nova-hypervisor/neutron/plugins/ml2/openvswitch_agent.ini',
        ),
        'utf8',
      ),
    );
  });

  it('refuses the smoke and upgrade levels without a cirros image before anything runs, saying what to set', () => {
    for (const level of ['smoke', 'upgrade'] as const)
      expect(() => deploymentSteps(base({ level, cirrosImage: undefined }))).toThrow(
        /The (smoke|upgrade) level boots a cirros image: set 'cirros-image'/,
      );
    expect(deploymentSteps(base({ cirrosImage: undefined })).length).toBeGreaterThan(0);
    // A path that is no file (a failed download, a typo) is refused as early.
    for (const path of [join(cirros, '..', 'missing.qcow2'), join(cirros, '..')])
      expect(() => deploymentSteps(base({ level: 'smoke', cirrosImage: path }))).toThrow(
        `'cirros-image' ${path} is not a file: give the path of a downloaded cirros qcow2 image.`,
      );
  });

  it('refuses a snap that is not part of the cloud', () => {
    expect(() => deploymentSteps(base({ snap: 'horizon' }))).toThrow(
      /'horizon' is not a service of the all-in-one cloud/,
    );
  });
});

withSnaps(
  'running it: stand-in snapd and a stand-in keystone API on 127.0.0.1, the engine and files real',
  () => {
    let api: ChildProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      // STAND-IN for keystone's API (a real keystone cannot run here).
      api = spawn(
        process.execPath,
        [
          '-e',
          `require('http').createServer((q, s) => s.end('{"version":{"id":"v3.14"}}')).listen(${port}, '127.0.0.1')`,
        ],
        { stdio: 'ignore' },
      );
    });
    const saved = {
      PATH: process.env.PATH,
      SNAP_STANDIN_STATE: process.env.SNAP_STANDIN_STATE,
      SNAP_STANDIN_FAIL: process.env.SNAP_STANDIN_FAIL,
      SNAP_STANDIN_EMPTY: process.env.SNAP_STANDIN_EMPTY,
    };
    afterAll(() => {
      api?.kill();
      // This worker runs other test files next: leave its environment as it was.
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });

    /** The keystone steps of the upgrade flow that need no OpenStack client: install, configure, waits, refresh, revert. */
    function upgradeRun(fail?: string) {
      const dir = tempDir('osa-smoke-');
      const file = makeSnap(dir, { name: 'keystone', version: '27.0.0', arch: 'amd64' });
      const etcRoot = join(dir, 'root');
      const options = base({
        level: 'upgrade',
        file,
        asRoot: false,
        waitMs: 3000,
        ports: { keystone: port },
      });
      const wanted = /^(install keystone|wait for keystone API|refresh keystone|revert keystone)/;
      const steps = deploymentSteps(options)
        .filter((s) => wanted.test(s.name))
        .map((s) => ({ ...s, timeoutMs: Math.min(s.timeoutMs, 10000) }));
      const state = join(dir, 'snapd.json');
      process.env.PATH = `${join(ROOT, 'test/standins')}:${process.env.PATH}`;
      process.env.SNAP_STANDIN_STATE = state;
      process.env.SNAP_STANDIN_FAIL = fail ?? '';
      return { steps, state, etcRoot, file };
    }

    it('installs the store revision, refreshes to this build, reverts, and checks the API after each', async () => {
      const { steps, state } = upgradeRun();
      const suite = await runSteps('upgrade keystone', steps);
      expect(suite.failed).toBeUndefined();
      expect(suite.steps.map((s) => s.name)).toEqual([
        'install keystone from 2025.1/edge',
        'wait for keystone API',
        'refresh keystone to the new build',
        'wait for keystone API',
        'revert keystone',
        'wait for keystone API',
      ]);
      const snapd = JSON.parse(readFileSync(state, 'utf8')) as {
        snaps: Record<string, { history: string[] }>;
      };
      expect(snapd.snaps.keystone!.history).toEqual([
        'store(2025.1/edge)',
        'x1',
        'store(2025.1/edge)',
      ]);
    });

    it('takes a companion from the next channel that has it when the release track is still empty', async () => {
      const dir = tempDir('osa-smoke-');
      const fromStore: string[] = [];
      const install = deploymentSteps(
        base({
          snap: 'glance',
          file: makeSnap(dir, { name: 'glance', version: '31.0.0', arch: 'amd64' }),
          asRoot: false,
          track: '2026.1',
          channels: ['2026.1/edge', '2025.2/edge', 'latest/edge'],
          onStoreInstall: (snap, channel, passed) =>
            fromStore.push(`${snap} ${channel} after ${passed.join(' ')}`),
        }),
      ).find((s) => s.name === 'install keystone from 2026.1/edge')!;
      const state = join(dir, 'snapd.json');
      process.env.PATH = `${join(ROOT, 'test/standins')}:${process.env.PATH}`;
      process.env.SNAP_STANDIN_STATE = state;
      process.env.SNAP_STANDIN_FAIL = '';
      process.env.SNAP_STANDIN_EMPTY = '2026.1/edge';
      try {
        const suite = await runSteps('install', [install]);
        expect(suite.failed).toBeUndefined();
        expect(fromStore).toEqual(['keystone 2025.2/edge after 2026.1/edge']);
        const snapd = JSON.parse(readFileSync(state, 'utf8')) as {
          snaps: Record<string, { history: string[] }>;
          log: string[];
        };
        expect(snapd.snaps.keystone!.history).toEqual(['store(2025.2/edge)']);
        // Any other failure is not a reason to take another channel.
        process.env.SNAP_STANDIN_FAIL = 'install keystone';
        const failed = await runSteps('install', [{ ...install, retries: 0 }]);
        expect(failed.failed?.error).toMatch(/--channel=2026.1\/edge` exited 1/);
      } finally {
        process.env.SNAP_STANDIN_EMPTY = '';
      }
    });

    it("reports a failed refresh with snapd's reason, skips the rest, collects the artifact, and says so in JUnit", async () => {
      const { steps, etcRoot } = upgradeRun('install --dangerous');
      // Configured as the deployment does it, so the artifact shows the config too.
      const configure = deploymentSteps(base({ asRoot: false, fsRoot: etcRoot })).find(
        (s) => s.name === 'configure keystone',
      )!;
      expect((await runSteps('configure', [configure])).passed).toBe(true);
      const collected: string[] = [];
      const artifact = tempDir('osa-smoke-artifact-');
      const suite = await runSteps('upgrade keystone', steps, {
        collect: async (f) => {
          collected.push(f.name);
          await collectLogs(artifact, f, { asRoot: false, fsRoot: etcRoot });
        },
      });
      expect(suite.failed).toMatchObject({ name: 'refresh keystone to the new build' });
      expect(suite.failed!.error).toMatch(
        /exited 1: error: cannot install snap file: .*has running apps \(uwsgi\)/,
      );
      expect(suite.steps.map((s) => s.status)).toEqual([
        'passed',
        'passed',
        'failed',
        'skipped',
        'skipped',
        'skipped',
      ]);
      expect(collected).toEqual(['refresh keystone to the new build']);
      expect(listFiles(artifact)).toEqual(
        [
          'failed-step.txt',
          'snap-services.txt',
          ...['glance', 'keystone', 'neutron', 'nova', 'nova-hypervisor', 'placement'].flatMap(
            (n) => [`${n}-config.txt`, `${n}.log`],
          ),
        ].sort(),
      );
      expect(readFileSync(join(artifact, 'failed-step.txt'), 'utf8')).toMatch(
        /^refresh keystone to the new build\n.*has running apps/,
      );
      expect(readFileSync(join(artifact, 'keystone.log'), 'utf8')).toContain(
        'keystone.uwsgi[1234]: (store(2025.1/edge)) uwsgi exited with status 1',
      );
      expect(readFileSync(join(artifact, 'keystone-config.txt'), 'utf8')).toContain(
        'connection = mysql+pymysql://keystone:keystone@localhost/keystone',
      );
      expect(junitXml(suite)).toMatch(
        /name="refresh keystone to the new build"[^>]*>\n {4}<failure message="[^"]*has running apps/,
      );
    });
  },
);
