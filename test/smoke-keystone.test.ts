import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentSteps } from '../src/smoke/deploy.js';
import { runSteps, type Step } from '../src/smoke/engine.js';
import { adminEnv } from '../src/smoke/services.js';
import { ROOT } from './helpers/fixtures.js';
import { keystoneCapability, prepareKeystone } from './helpers/keystone.js';
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
    // The same admin the action's steps use.
    const admin = () => ({
      ...process.env,
      ...adminEnv(`http://127.0.0.1:${keystone.port}/v3`),
    });
    /** Reads the cloud back with the real client, as a person would. */
    const read = (...args: string[]): string[] =>
      execFileSync('/usr/bin/openstack', [...args, '-f', 'value'], {
        env: admin(),
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .filter(Boolean)
        .sort();
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
      process.env.PATH = `${keystone.bin}:${savedPath}`;
      steps = deploymentSteps({
        level: 'deploy',
        snap: 'glance',
        file: '/nonexistent/glance.snap',
        track: '2025.1',
        etcDir: join(ROOT, 'smoke/etc'),
        waitMs: 60000,
        asRoot: process.getuid?.() === 0,
        host: '127.0.0.1',
        ports: { keystone: keystone.port },
      });
      // The database through the action's own step, then the API it serves.
      const synced = await run('db sync keystone');
      expect(synced.failed).toBeUndefined();
      await keystone.serve();
    }, 120000);
    afterAll(async () => {
      process.env.PATH = savedPath;
      await keystone?.stop();
    });

    it('bootstraps Keystone and registers glance and nova, users, roles and endpoints as snap-test did', async () => {
      const suite = await run(
        'wait for keystone API',
        'keystone bootstrap',
        'register glance in keystone',
        'register nova in keystone',
      );
      expect(suite.failed).toBeUndefined();
      const base = `http://127.0.0.1`;
      expect(read('service', 'list', '-c', 'Name', '-c', 'Type')).toEqual([
        'glance image',
        'keystone identity',
        'nova compute',
      ]);
      expect(
        read('endpoint', 'list', '--service', 'glance', '-c', 'Interface', '-c', 'URL'),
      ).toEqual([`admin ${base}:9292`, `internal ${base}:9292`, `public ${base}:9292`]);
      expect(read('endpoint', 'list', '--service', 'nova', '-c', 'Interface', '-c', 'URL')).toEqual(
        [`admin ${base}:8774/v2.1`, `internal ${base}:8774/v2.1`, `public ${base}:8774/v2.1`],
      );
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
      ).toEqual(['admin glance@Default', 'admin nova@Default']);
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
      expect(argv).not.toMatch(/--bootstrap-password|--os-password|OS_PASSWORD/);
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
      expect(read('user', 'list', '-c', 'Name')).toEqual(['admin', 'glance', 'nova']);
      // And once more with everything there: nothing new.
      const before = read('endpoint', 'list', '-c', 'ID');
      expect((await run('register glance in keystone')).failed).toBeUndefined();
      expect(read('endpoint', 'list', '-c', 'ID')).toEqual(before);
    }, 300000);
  },
);
