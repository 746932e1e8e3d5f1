import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectLogs } from '../src/smoke/collect.js';
import { deploymentSteps, type DeployOptions } from '../src/smoke/deploy.js';
import { runSteps, type Step, type SuiteResult } from '../src/smoke/engine.js';
import { adminEnv } from '../src/smoke/services.js';
import { cloudCapability, prepareCloud, type Cloud } from './helpers/cloud.js';
import { readBack } from './helpers/keystone.js';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { makeSnap } from './helpers/snaps.js';
import { announceSkip } from './helpers/system.js';

const capability = await cloudCapability();
if (!capability.ok) announceSkip('real all-in-one cloud tests', capability.reason);
const withCloud = capability.ok ? describe : describe.skip;

/** What the client prints when glance's keystonemiddleware cannot validate the caller's token. */
const GLANCE_CANNOT_VALIDATE =
  /openstack image list.* exited 1: .*(503|Service Unavailable|401|Unauthorized)/;

withCloud(
  "the smoke test's own steps against a real all-in-one cloud (Debian's keystone, placement, glance, neutron and nova; MariaDB, RabbitMQ; only snapd and the snaps are stand-ins)",
  () => {
    let cloud: Cloud;
    let steps: Step[];
    let options: DeployOptions;
    const savedPath = process.env.PATH;
    const logs: string[] = [];
    const password = randomBytes(18).toString('base64url');
    const admin = () => ({ ...process.env, ...adminEnv('http://127.0.0.1:5000/v3', password) });
    /** Reads the cloud back with the real client, as a person would. */
    const read = (...args: string[]): string[] => readBack(admin(), ...args);
    const openstack = (...args: string[]): string =>
      execFileSync('/usr/bin/openstack', args, { env: admin(), encoding: 'utf8' });
    // Jest's process.env is the test file's own: a child gets it only when it is passed.
    const snap = (...args: string[]): string =>
      execFileSync(join(cloud.bin, 'snap'), args, { env: process.env, encoding: 'utf8' });
    const step = (name: string): Step => {
      const found = steps.find((s) => s.name === name);
      if (!found) throw new Error(`no step '${name}' in ${steps.map((s) => s.name).join(', ')}`);
      return found;
    };
    const run = (names: string[]): Promise<SuiteResult> =>
      runSteps('cloud', names.map(step), { log: (line) => logs.push(line) });

    beforeAll(async () => {
      cloud = await prepareCloud();
      process.env.PATH = `${cloud.bin}:${savedPath}`;
      Object.assign(process.env, cloud.env);
      const dir = tempDir('osa-cloud-test-');
      writeFileSync(join(dir, 'cirros.qcow2'), Buffer.alloc(1 << 20, 'cirros'));
      options = {
        level: 'upgrade',
        snap: 'nova',
        file: makeSnap(dir, { name: 'nova', version: '26.2.2', arch: 'amd64' }),
        track: '2025.1',
        etcDir: join(ROOT, 'smoke/etc'),
        waitMs: 180000,
        asRoot: true,
        host: '127.0.0.1',
        adminPassword: password,
        cirrosImage: join(dir, 'cirros.qcow2'),
        fsRoot: cloud.fsRoot,
      };
      steps = deploymentSteps(options);
    }, 180000);
    afterAll(async () => {
      process.env.PATH = savedPath;
      for (const key of Object.keys(cloud?.env ?? {})) delete process.env[key];
      await cloud?.stop();
    }, 120000);

    it('deploys every service, boots a server to ACTIVE, upgrades nova and reverts it, with the server and data kept', async () => {
      // A self-hosted runner on an OpenStack cloud has OS_* variables of its own: the steps use
      // only this cloud's credentials.
      const hostile = { OS_CLOUD: 'the-runners-cloud', OS_TOKEN: 'x', OS_PROJECT_ID: '0' };
      Object.assign(process.env, hostile);
      // Every step but the apt-get of the infrastructure (scripts/setup.sh installed it).
      const names = steps.map((s) => s.name).filter((n) => n !== 'install infrastructure');
      const suite = await run(names).finally(() => {
        for (const key of Object.keys(hostile)) delete process.env[key];
      });
      if (suite.failed) console.error(logs.slice(-60).join('\n'));
      expect(suite.failed).toBeUndefined();

      // Read back with the real client: every service in the catalog, nova's services up.
      expect(read('service', 'list', '-c', 'Name', '-c', 'Type')).toEqual([
        'glance image',
        'keystone identity',
        'neutron network',
        'nova compute',
        'placement placement',
      ]);
      expect(read('compute', 'service', 'list', '-c', 'Binary', '-c', 'State')).toEqual([
        'nova-compute up',
        'nova-conductor up',
        'nova-scheduler up',
      ]);
      const cells = execFileSync(join(cloud.bin, 'nova.manage'), ['cell_v2', 'list_cells'], {
        encoding: 'utf8',
        env: process.env,
      });
      expect(cells).toMatch(/\|\s+cell0\s+\|/);
      expect(cells).toMatch(/\|\s+cell1\s+\|/);
      expect(read('image', 'list', '-c', 'Name', '-c', 'Status')).toEqual(['cirros active']);
      expect(read('network', 'list', '-c', 'Name')).toEqual(['external', 'test']);
      expect(read('subnet', 'list', '-c', 'Name', '-c', 'Subnet')).toEqual([
        'external 172.24.4.0/24',
        'test 192.168.222.0/24',
      ]);
      expect(openstack('router', 'show', 'test', '-f', 'json')).toMatch(
        /"external_gateway_info": \{\s*"network_id"/,
      );
      // The smoke rounds' servers are gone; the one kept across the upgrade is ACTIVE.
      expect(read('server', 'list', '-c', 'Name', '-c', 'Status')).toEqual(['upgrade-vm ACTIVE']);
      expect(read('floating', 'ip', 'list', '-c', 'Port')).toEqual([]);

      const dataplane = readFileSync(cloud.dataplaneLog, 'utf8');
      // MySQL was stopped, as on a hosted runner: the databases step started it.
      expect(dataplane).toMatch(/^service mysql start$/m);
      // Each round pinged a floating address neutron gave from the external subnet.
      const pinged = [...dataplane.matchAll(/^ping -c 1 -W 2 (\S+)$/gm)].map((m) => m[1]!);
      expect(pinged).toHaveLength(3);
      for (const address of pinged) expect(address).toMatch(/^172\.24\.4\.\d+$/);
      expect(dataplane).toMatch(/^ip address replace 172\.24\.4\.1\/24 dev br-ex$/m);
      // The store revision, this build, then back.
      const snapd = JSON.parse(readFileSync(cloud.env.SNAP_STANDIN_STATE!, 'utf8')) as {
        snaps: Record<string, { history: string[] }>;
      };
      expect(snapd.snaps.nova!.history).toEqual(['store(2025.1/edge)', 'x1', 'store(2025.1/edge)']);
      expect(logs.join('\n')).not.toContain(password);
    }, 1200000);

    it("refuses Keystone's admin port 35357 with glance's own message, in the step that first calls glance, and collects the logs", async () => {
      const etc = tempDir('osa-cloud-etc-');
      cpSync(join(ROOT, 'smoke/etc'), etc, { recursive: true });
      const snippet = join(etc, 'snap-glance/glance/glance.conf.d/keystone.conf');
      writeFileSync(
        snippet,
        readFileSync(snippet, 'utf8').replace(
          /^auth_url = .*$/m,
          'auth_url = http://localhost:35357',
        ),
      );
      const old = deploymentSteps({ ...options, etcDir: etc });
      const artifact = tempDir('osa-cloud-logs-');
      const suite = await runSteps(
        'cloud',
        [
          'configure glance',
          'restart glance',
          'wait for glance API',
          'smoke: image, flavor, networks and router',
        ].map((name) => old.find((s) => s.name === name)!),
        {
          log: (line) => logs.push(line),
          collect: async (failed) =>
            void (await collectLogs(artifact, failed, { asRoot: true, fsRoot: cloud.fsRoot })),
        },
      );
      expect(suite.failed?.name).toBe('smoke: image, flavor, networks and router');
      expect(suite.failed?.error).toMatch(GLANCE_CANNOT_VALIDATE);
      expect(readFileSync(join(artifact, 'failed-step.txt'), 'utf8')).toMatch(
        /^smoke: image, flavor, networks and router\n/,
      );
      expect(readFileSync(join(artifact, 'glance-config.txt'), 'utf8')).toContain(
        'auth_url = http://localhost:35357',
      );
      expect(readFileSync(join(artifact, 'glance.log'), 'utf8')).toMatch(/35357/);
      expect(readFileSync(join(artifact, 'snap-services.txt'), 'utf8')).toMatch(
        /^glance\.api\s+enabled\s+active/m,
      );
      // The snippets as shipped mend it.
      const mended = await run(['configure glance', 'restart glance', 'wait for glance API']);
      expect(mended.failed).toBeUndefined();
      expect(read('image', 'list', '-c', 'Name')).toEqual(['cirros']);
    }, 600000);

    it("refuses a service user without the admin role: glance cannot validate anyone's token, and says so", async () => {
      openstack('role', 'remove', '--user', 'glance', '--project', 'service', 'admin');
      openstack('role', 'add', '--user', 'glance', '--project', 'service', 'member');
      snap('restart', 'glance');
      const suite = await run(['wait for glance API', 'smoke: image, flavor, networks and router']);
      expect(suite.failed?.name).toBe('smoke: image, flavor, networks and router');
      expect(suite.failed?.error).toMatch(GLANCE_CANNOT_VALIDATE);
      // The registration step gives the role back; with it glance serves again.
      openstack('role', 'remove', '--user', 'glance', '--project', 'service', 'member');
      const mended = await run([
        'register glance in keystone',
        'restart glance',
        'wait for glance API',
      ]);
      expect(mended.failed).toBeUndefined();
      expect(read('image', 'list', '-c', 'Name')).toEqual(['cirros']);
    }, 600000);

    it("stops at the wait for nova's API, in nova-scheduler's own words, when the catalog has no placement endpoint", async () => {
      for (const id of read('endpoint', 'list', '--service', 'placement', '-c', 'ID'))
        openstack('endpoint', 'delete', id);
      snap('restart', 'nova');
      // nova-api answers; nova-scheduler has died at its start (a boot would time out in RPC).
      const suite = await run(['wait for nova API']);
      expect(suite.failed?.name).toBe('wait for nova API');
      expect(suite.failed?.error).toMatch(
        /nova\.scheduler is not running: .*The placement API endpoint was not found/,
      );
      const mended = await run([
        'register placement in keystone',
        'restart nova',
        'wait for nova API',
      ]);
      expect(mended.failed).toBeUndefined();
    }, 600000);

    it("refuses a subnet that overlaps the external one with neutron's own message, and stops on two networks of one name", async () => {
      openstack('server', 'delete', '--wait', 'upgrade-vm');
      openstack('router', 'remove', 'subnet', 'test', 'test');
      openstack('subnet', 'delete', 'test');
      openstack('subnet', 'create', '--network', 'test', '--subnet-range', '172.24.4.0/24', 'test');
      const suite = await run(['smoke: image, flavor, networks and router']);
      expect(suite.failed?.name).toBe('smoke: image, flavor, networks and router');
      expect(suite.failed?.error).toMatch(
        /router add subnet test test` exited 1: .*overlaps with cidr 172\.24\.4\.0\/24/,
      );
      openstack('subnet', 'delete', 'test');
      // Two networks of one name (neutron allows it): the step says what to delete.
      const extra = openstack('network', 'create', 'test', '-f', 'value', '-c', 'id').trim();
      const twice = await run(['smoke: image, flavor, networks and router']);
      expect(twice.failed?.error).toMatch(/2 networks are named 'test' \(.+\).*delete all but one/);
      expect(twice.failed?.failure?.retryable).toBe(false);
      openstack('network', 'delete', extra);
    }, 600000);
  },
);
