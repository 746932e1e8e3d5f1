import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentSteps } from '../src/smoke/deploy.js';
import { runSteps, type Step } from '../src/smoke/engine.js';
import { adminEnv } from '../src/smoke/services.js';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { keystoneCapability, prepareKeystone, readBack } from './helpers/keystone.js';
import { announceSkip } from './helpers/system.js';

const capability = keystoneCapability();
if (!capability.ok) announceSkip('real Keystone tests', capability.reason);
const withKeystone = capability.ok ? describe : describe.skip;

withKeystone(
  "smoke-test's Keystone steps, run by the action's own step code against a real Keystone (Debian's keystone, uWSGI, the real openstack client)",
  () => {
    let keystone: Awaited<ReturnType<typeof prepareKeystone>>;
    let steps: Step[];
    const savedPath = process.env.PATH;
    const logs: string[] = [];
    // This run's admin password, as the action makes one: findable, so its absence is provable.
    const password = randomBytes(18).toString('base64url');
    // The same admin the action's steps use.
    const admin = () => ({
      ...process.env,
      ...adminEnv(`http://127.0.0.1:${keystone.port}/v3`, password),
    });
    /** Reads the cloud back with the real client, as a person would. */
    const read = (...args: string[]): string[] => readBack(admin(), ...args);
    const run = (...names: string[]) =>
      runSteps(
        'deploy',
        names.map((name) => {
          const step = steps.find((s) => s.name === name);
          if (!step) throw new Error(`no step '${name}' in ${steps.map((s) => s.name).join(', ')}`);
          return step;
        }),
        { log: (line) => logs.push(line) },
      );

    beforeAll(async () => {
      keystone = await prepareKeystone();
      // snapd's stand-in, with keystone installed (its API wait asks `snap services keystone`).
      const snapd = join(tempDir('osa-snapd-'), 'snapd.json');
      writeFileSync(snapd, JSON.stringify({ snaps: { keystone: { history: ['x1'] } }, log: [] }));
      process.env.SNAP_STANDIN_STATE = snapd;
      process.env.PATH = `${keystone.bin}:${join(ROOT, 'test/standins')}:${savedPath}`;
      steps = deploymentSteps({
        // The upgrade level: its steps include the smoke rounds before and after the refresh.
        level: 'upgrade',
        snap: 'glance',
        file: '/nonexistent/glance.snap',
        track: '2025.1',
        etcDir: join(ROOT, 'smoke/etc'),
        waitMs: 60000,
        asRoot: process.getuid?.() === 0,
        host: '127.0.0.1',
        // The other services' endpoints are only registered here (test/smoke-cloud.test.ts runs them).
        ports: {
          keystone: keystone.port,
          placement: 18778,
          nova: 18774,
          neutron: 19696,
          glance: 19292,
        },
        adminPassword: password,
        // The levels past deploy need the file; these steps never read it.
        cirrosImage: (() => {
          const file = join(tempDir('osa-cirros-'), 'cirros.qcow2');
          writeFileSync(file, 'never uploaded here');
          return file;
        })(),
      });
      // The database through the action's own step, then the API it serves.
      const synced = await run('db sync keystone');
      expect(synced.failed).toBeUndefined();
      await keystone.serve();
    }, 120000);
    afterAll(async () => {
      process.env.PATH = savedPath;
      delete process.env.SNAP_STANDIN_STATE;
      await keystone?.stop();
    });

    it('bootstraps Keystone and registers placement, glance, nova and neutron, users, roles and endpoints as snap-test did', async () => {
      const suite = await run(
        'wait for keystone API',
        'keystone bootstrap',
        'register placement in keystone',
        'register glance in keystone',
        'register nova in keystone',
        'register neutron in keystone',
      );
      expect(suite.failed).toBeUndefined();
      expect(read('service', 'list', '-c', 'Name', '-c', 'Type')).toEqual([
        'glance image',
        'keystone identity',
        'neutron network',
        'nova compute',
        'placement placement',
      ]);
      const endpoints = (service: string, url: string) => {
        expect(
          read('endpoint', 'list', '--service', service, '-c', 'Interface', '-c', 'URL'),
        ).toEqual([`admin ${url}`, `internal ${url}`, `public ${url}`]);
      };
      endpoints('glance', 'http://127.0.0.1:19292');
      endpoints('nova', 'http://127.0.0.1:18774/v2.1');
      endpoints('neutron', 'http://127.0.0.1:19696');
      endpoints('placement', 'http://127.0.0.1:18778');
      expect(
        read(
          'role',
          'assignment',
          'list',
          '--names',
          '--project',
          'service',
          '-c',
          'Role',
          '-c',
          'User',
        ),
      ).toEqual([
        'admin glance@Default',
        'admin neutron@Default',
        'admin nova@Default',
        'admin placement@Default',
      ]);
      // The service users log in with what snap-test's config snippets give them.
      expect(
        execFileSync('/usr/bin/openstack', ['token', 'issue', '-f', 'value', '-c', 'id'], {
          env: {
            ...admin(),
            OS_USERNAME: 'glance',
            OS_PASSWORD: 'glance',
            OS_PROJECT_NAME: 'service',
          },
          encoding: 'utf8',
        }).trim(),
      ).toMatch(/^\S{20,}$/);
      // The admin password reached keystone-manage and the client in their environment only.
      const argv = readFileSync(keystone.argvLog, 'utf8');
      expect(argv).toMatch(/^keystone\.manage bootstrap /m);
      expect(argv).toMatch(/^keystone\.manage fernet_setup /m);
      expect(argv).not.toContain(password);
      expect(logs.join('\n')).not.toContain(password);
    }, 300000);

    it('re-runs after a partial failure without failing on what exists, and makes only what is missing', async () => {
      const glanceEndpoints = () =>
        read('endpoint', 'list', '--service', 'glance', '-f', 'value', '-c', 'ID');
      // A try that stopped halfway: the public endpoint and the user are gone, the rest is there.
      const publicId = read(
        'endpoint',
        'list',
        '--service',
        'glance',
        '--interface',
        'public',
        '-c',
        'ID',
      );
      execFileSync('/usr/bin/openstack', ['endpoint', 'delete', ...publicId], { env: admin() });
      execFileSync('/usr/bin/openstack', ['user', 'delete', 'glance'], { env: admin() });
      const suite = await run('keystone bootstrap', 'register glance in keystone');
      expect(suite.failed).toBeUndefined();
      expect(suite.steps.map((s) => s.attempts)).toEqual([1, 1]);
      expect(glanceEndpoints()).toHaveLength(3);
      expect(read('user', 'list', '-c', 'Name')).toEqual([
        'admin',
        'glance',
        'neutron',
        'nova',
        'placement',
      ]);
      expect(
        read(
          'role',
          'assignment',
          'list',
          '--names',
          '--user',
          'glance',
          '-c',
          'Role',
          '-c',
          'Project',
        ),
      ).toEqual(['admin service@Default']);
      // And once more with everything there: nothing new.
      const before = read('endpoint', 'list', '-c', 'ID');
      expect((await run('register glance in keystone')).failed).toBeUndefined();
      expect(read('endpoint', 'list', '-c', 'ID')).toEqual(before);
    }, 300000);
  },
);
