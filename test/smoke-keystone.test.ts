import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentSteps } from '../src/smoke/deploy.js';
import { runSteps, type Step } from '../src/smoke/engine.js';
import { adminEnv } from '../src/smoke/services.js';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { keystoneCapability, prepareKeystone } from './helpers/keystone.js';
import {
  passwordToken,
  serviceAccounts,
  startOpenStackStandIn,
  type OpenStackStandIn,
} from './helpers/openstack-standin.js';
import { announceSkip } from './helpers/system.js';

const capability = keystoneCapability();
if (!capability.ok) announceSkip('real Keystone tests', capability.reason);
const withKeystone = capability.ok ? describe : describe.skip;

withKeystone(
  "smoke-test's Keystone steps, run by the action's own step code against a real Keystone (Debian's keystone, uWSGI, the real openstack client)",
  () => {
    let keystone: Awaited<ReturnType<typeof prepareKeystone>>;
    let cloud: OpenStackStandIn;
    let cirros: Buffer;
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
    /** The real client, without blocking the stand-in cloud that runs in this process. */
    const openstackAsync = async (...args: string[]): Promise<string> =>
      (await promisify(execFile)('/usr/bin/openstack', args, { env: admin(), encoding: 'utf8' }))
        .stdout;
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
      // The compute, network and image APIs: a stand-in that trusts only the real Keystone.
      const dir = tempDir('osa-cloud-');
      cloud = await startOpenStackStandIn({
        keystone: `http://127.0.0.1:${keystone.port}`,
        dir,
        accounts: serviceAccounts(join(ROOT, 'smoke/etc')),
      });
      cirros = Buffer.alloc(65536, 'cirros');
      writeFileSync(join(dir, 'cirros.qcow2'), cirros);
      process.env.PATH = `${cloud.bin}:${keystone.bin}:${savedPath}`;
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
        ports: { keystone: keystone.port, ...cloud.ports },
        adminPassword: password,
        cirrosImage: join(dir, 'cirros.qcow2'),
      });
      // The database through the action's own step, then the API it serves.
      const synced = await run('db sync keystone');
      expect(synced.failed).toBeUndefined();
      await keystone.serve();
    }, 120000);
    afterAll(async () => {
      process.env.PATH = savedPath;
      await cloud?.stop();
      await keystone?.stop();
    });

    it('bootstraps Keystone and registers glance, nova and neutron, users, roles and endpoints as snap-test did', async () => {
      const suite = await run(
        'wait for keystone API',
        'keystone bootstrap',
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
      ]);
      const endpoints = (service: string, url: string) => {
        expect(
          read('endpoint', 'list', '--service', service, '-c', 'Interface', '-c', 'URL'),
        ).toEqual([`admin ${url}`, `internal ${url}`, `public ${url}`]);
      };
      endpoints('glance', `http://127.0.0.1:${cloud.ports.glance}`);
      endpoints('nova', `http://127.0.0.1:${cloud.ports.nova}/v2.1`);
      endpoints('neutron', `http://127.0.0.1:${cloud.ports.neutron}`);
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
      ).toEqual(['admin glance@Default', 'admin neutron@Default', 'admin nova@Default']);
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
      expect(read('user', 'list', '-c', 'Name')).toEqual(['admin', 'glance', 'neutron', 'nova']);
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

    it("runs the smoke level's image, flavor, network and server steps with the real client, through the catalog it registered, authenticated by the real Keystone", async () => {
      // A self-hosted runner on an OpenStack cloud has OS_* variables of its own: the steps use
      // only this cloud's credentials.
      const hostile = { OS_CLOUD: 'the-runners-cloud', OS_TOKEN: 'x', OS_PROJECT_ID: '0' };
      Object.assign(process.env, hostile);
      const suite = await run(
        'smoke: image, flavor and network',
        'smoke: boot an instance and reach it',
      ).finally(() => {
        for (const key of Object.keys(hostile)) delete process.env[key];
      });
      expect(suite.failed).toBeUndefined();
      const state = cloud.state;
      // The image holds the file's bytes; one flavor, network and subnet; the instance was
      // booted, reached and deleted.
      expect(state.images.map((i) => [i.name, i.status, i.size])).toEqual([
        ['cirros', 'active', cirros.length],
      ]);
      expect(state.flavors.map((f) => [f.name, f.ram, f.vcpus, f.disk])).toEqual([
        ['m1.tiny', 512, 1, 1],
      ]);
      expect(state.networks.map((n) => n.name)).toEqual(['test']);
      expect(state.subnets.map((n) => [n.name, n.cidr])).toEqual([['test', '10.20.20.0/24']]);
      expect(state.servers).toEqual([]);
      expect(cloud.requests).toContainEqual(
        expect.stringMatching(/^nova POST \/v2\.1\/servers 202$/),
      );
      expect(cloud.requests).toContainEqual(
        expect.stringMatching(/^nova DELETE \/v2\.1\/servers\/\S+ 204$/),
      );
      expect(suite.steps[1]!.lastLines.join('\n')).toMatch(/3 received/);
      // Every call was made with a token the real Keystone accepted.
      expect(cloud.requests.filter((r) => / (401|503)\b/.test(r))).toEqual([]);
      expect(readFileSync(keystone.argvLog, 'utf8')).not.toContain(password);
      expect(logs.join('\n')).not.toContain(password);
    }, 300000);

    it('a second round, as the upgrade level runs after the refresh, reuses what the first made (neutron would take a second network of the same name)', async () => {
      const before = cloud.requests.length;
      const suite = await run(
        'smoke after refresh: image, flavor and network',
        'smoke after refresh: boot an instance and reach it',
      );
      expect(suite.failed).toBeUndefined();
      const state = cloud.state;
      expect(
        [state.images, state.flavors, state.networks, state.subnets].map((l) => l.length),
      ).toEqual([1, 1, 1, 1]);
      const made = cloud.requests.slice(before).filter((r) => / (POST|PUT) /.test(r));
      expect(made.map((r) => r.split(' ').slice(0, 2).join(' '))).toEqual(['nova POST']);

      // Two networks of one name (neutron allows it): the step stops and says what to delete,
      // rather than making a third or passing the ambiguity on to the server step.
      const extra = (
        await openstackAsync('network', 'create', 'test', '-f', 'value', '-c', 'id')
      ).trim();
      const twice = await run('smoke after revert: image, flavor and network');
      expect(twice.failed?.error).toMatch(/2 networks are named 'test' \(.+\).*delete all but one/);
      expect(twice.failed?.failure?.retryable).toBe(false);
      expect(cloud.state.networks).toHaveLength(2);
      await openstackAsync('network', 'delete', extra);
    }, 300000);

    it('the stand-in cloud answers only to tokens the real Keystone issued for a project, and only while its own service user can log in as registered', async () => {
      const url = `http://127.0.0.1:${cloud.ports.nova}/v2.1/flavors`;
      const status = async (headers: Record<string, string>) =>
        (await fetch(url, { headers })).status;
      expect(await status({})).toBe(401);
      expect(await status({ 'X-Auth-Token': 'gAAAAAforged' })).toBe(401);
      const issue = async (project?: string) => {
        const response = await passwordToken(`http://127.0.0.1:${keystone.port}`, {
          name: 'admin',
          password,
          project,
        });
        // Keystone issued it (so a 401 below is the stand-in's judgement, not a failed login).
        expect(response.status).toBe(201);
        return response.headers.get('x-subject-token')!;
      };
      expect(await status({ 'X-Auth-Token': await issue() })).toBe(401);
      const scoped = await issue('admin');
      expect(await status({ 'X-Auth-Token': scoped })).toBe(200);
      // Version discovery is open, as on the real services.
      expect((await fetch(`http://127.0.0.1:${cloud.ports.nova}/`)).status).toBe(200);
      // A neutron user registered with another password than its config snippet's: neutron
      // cannot validate anyone's token, so it serves no one.
      const neutron = `http://127.0.0.1:${cloud.ports.neutron}/v2.0/networks`;
      execFileSync(
        '/usr/bin/openstack',
        ['user', 'set', '--password', 'not-the-snippets', 'neutron'],
        {
          env: admin(),
        },
      );
      cloud.restart();
      try {
        expect((await fetch(neutron, { headers: { 'X-Auth-Token': scoped } })).status).toBe(503);
      } finally {
        execFileSync('/usr/bin/openstack', ['user', 'set', '--password', 'neutron', 'neutron'], {
          env: admin(),
        });
      }
      // Keystone revokes the user's tokens issued up to the second of a password change: the
      // service logs in again after it.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      cloud.restart();
      expect((await fetch(neutron, { headers: { 'X-Auth-Token': scoped } })).status).toBe(200);
    }, 120000);
  },
);
