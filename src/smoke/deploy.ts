import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigurationError } from '../platform/index.js';
import { StepFailure, type Step, type StepContext } from './engine.js';
import { waitForHttp } from './waits.js';
import {
  adminEnv,
  CATALOG,
  DATABASES,
  hasSmokeRecipe,
  SERVICES,
  type SmokeLevel,
} from './services.js';

export interface DeployOptions {
  readonly level: SmokeLevel;
  /** The snap under test (its name) and the file built. */
  readonly snap: string;
  readonly file: string;
  /** Companion snaps come from here: `<track>/edge` by default; a name may map to a local file. */
  readonly track: string;
  /**
   * The store channels to take companions from, in order (release/companionChannels): the first
   * that has the snap is used. Default: `<track>/edge` alone.
   */
  readonly channels?: readonly string[];
  /** Told which channel each store snap came from, and which were tried before it. */
  readonly onStoreInstall?: (snap: string, channel: string, passed: readonly string[]) => void;
  readonly companions?: Readonly<Record<string, string>>;
  /** snap-test's config snippets (smoke/etc in this repo). */
  readonly etcDir: string;
  /** Bound for each wait, in ms. */
  readonly waitMs: number;
  /** Run the privileged commands as root (the funnel's rule: as is when root, else sudo -n). */
  readonly asRoot: boolean;
  readonly host?: string;
  /** API ports by snap, where they differ from the defaults (tests). */
  readonly ports?: Readonly<Record<string, number>>;
  /**
   * The admin password of this run's throwaway cloud: made afresh for every run (and masked by
   * the action), so it can be told from anything else in a log or a command line.
   */
  readonly adminPassword: string;
  /** A cirros qcow2 image file for the smoke level. */
  readonly cirrosImage?: string;
  /** Where /var/snap lives (tests point it at a scratch directory). */
  readonly fsRoot?: string;
}

function portOf(snap: string, options: DeployOptions): number {
  return options.ports?.[snap] ?? SERVICES.find((s) => s.snap === snap)?.port ?? 0;
}

/** The steps of a deployment (and, per level, the smoke and upgrade checks), in order. */
export function deploymentSteps(options: DeployOptions): Step[] {
  if (!hasSmokeRecipe(options.snap)) {
    throw new ConfigurationError(
      `'${options.snap}' is not a service of the all-in-one cloud (${SERVICES.map((s) => s.snap).join(', ')}).`,
    );
  }
  if (options.level !== 'deploy' && !options.cirrosImage)
    throw new ConfigurationError(
      `The ${options.level} level boots a cirros image: set 'cirros-image' (snap.yml: 'cirros-image-url'), or use level 'deploy'.`,
    );
  const root = { asRoot: options.asRoot };
  const run = (name: string, argvs: string[][], timeoutMs = 600000, retries = 0): Step => ({
    name,
    timeoutMs,
    retries,
    retryDelayMs: 5000,
    run: async (ctx) => {
      for (const argv of argvs) await ctx.run(argv, root);
    },
  });
  const host = options.host ?? '127.0.0.1';
  const admin = adminEnv(`http://${host}:${portOf('keystone', options)}/v3`, options.adminPassword);
  const upgrade = options.level === 'upgrade';
  const steps: Step[] = [
    run(
      'install infrastructure',
      [
        ['apt-get', 'update'],
        [
          'apt-get',
          'install',
          '-y',
          'rabbitmq-server',
          'mysql-server',
          'memcached',
          'libvirt-daemon-system',
          'qemu-kvm',
          'openvswitch-switch',
          // The openstack client, from Ubuntu's archive (snap-test used the openstackclients snap).
          'python3-openstackclient',
        ],
      ],
      1200000,
      2,
    ),
    run('rabbitmq user', [
      ['rabbitmqctl', 'add_user', 'openstack', 'rabbitmq'],
      ['rabbitmqctl', 'set_permissions', 'openstack', '.*', '.*', '.*'],
    ]),
    run(
      'databases',
      DATABASES.map((db) => [
        'mysql',
        '-u',
        'root',
        '-e',
        `CREATE DATABASE IF NOT EXISTS ${db}; CREATE USER IF NOT EXISTS '${db.split('_')[0]}'@'localhost' IDENTIFIED BY '${db.split('_')[0]}'; GRANT ALL PRIVILEGES ON ${db}.* TO '${db.split('_')[0]}'@'localhost';`,
      ]),
    ),
  ];
  for (const service of SERVICES) {
    const source =
      service.snap === options.snap
        ? upgrade
          ? 'store'
          : options.file
        : (options.companions?.[service.snap] ?? 'store');
    steps.push(installStep(service.snap, source, options));
    steps.push(configureStep(service.snap, options));
    if (service.sync.length)
      steps.push(
        run(
          `db sync ${service.snap}`,
          service.sync.map((argv) => [...argv]),
          600000,
        ),
      );
    // Its services read the config snippets and the schema when they start (snap-test restarted
    // them here too).
    steps.push(run(`restart ${service.snap}`, [['snap', 'restart', service.snap]], 300000, 1));
    if (service.port) steps.push(waitApi(service.snap, options, host));
    if (service.snap === 'keystone') steps.push(bootstrapStep(admin, options));
    const catalog = CATALOG[service.snap];
    if (catalog)
      steps.push(
        registerStep(
          service.snap,
          catalog,
          `http://${host}:${portOf(service.snap, options)}`,
          admin,
        ),
      );
  }
  if (options.level === 'deploy') return steps;
  steps.push(...smokeSteps(options, 'smoke', admin));
  if (!upgrade) return steps;
  // Store revision deployed and smoke-tested above; now the new build, then back.
  steps.push(
    run(`refresh ${options.snap} to the new build`, [
      ['snap', 'install', '--dangerous', options.file],
    ]),
    waitApi(options.snap, options, host),
    ...smokeSteps(options, 'smoke after refresh', admin),
    run(`revert ${options.snap}`, [['snap', 'revert', options.snap]]),
    waitApi(options.snap, options, host),
    ...smokeSteps(options, 'smoke after revert', admin),
  );
  return steps;
}

function waitApi(snap: string, options: DeployOptions, host: string): Step {
  const service = SERVICES.find((s) => s.snap === snap)!;
  return {
    name: `wait for ${snap} API`,
    timeoutMs: options.waitMs + 5000,
    run: async (ctx) => {
      const port = portOf(snap, options);
      if (port)
        await waitForHttp(`http://${host}:${port}${service.path}`, {
          timeoutMs: options.waitMs,
          signal: ctx.signal,
        });
    },
  };
}

/**
 * Keystone's own bootstrap: the admin user, project and role, the identity service and its
 * endpoints. The password travels in the environment (OS_BOOTSTRAP_PASSWORD, which keystone-manage
 * reads), kept by name through sudo: never in argv. Bootstrap is idempotent.
 */
function bootstrapStep(admin: Readonly<Record<string, string>>, options: DeployOptions): Step {
  const url = admin.OS_AUTH_URL!;
  return {
    name: 'keystone bootstrap',
    timeoutMs: 600000,
    retries: 2,
    retryDelayMs: 5000,
    run: async (ctx) => {
      await ctx.run(
        [
          'keystone.manage',
          'bootstrap',
          '--bootstrap-admin-url',
          url,
          '--bootstrap-internal-url',
          url,
          '--bootstrap-public-url',
          url,
          '--bootstrap-region-id',
          'RegionOne',
        ],
        { asRoot: options.asRoot, env: { OS_BOOTSTRAP_PASSWORD: admin.OS_PASSWORD! } },
      );
    },
  };
}

/**
 * The service's user and its catalog entry, as snap-test registered them with the openstack
 * client. Every piece is looked up before it is made, so a retry after a partial failure makes
 * only what is missing (and never a second endpoint).
 */
function registerStep(
  snap: string,
  catalog: { type: string; path: string },
  base: string,
  admin: Readonly<Record<string, string>>,
): Step {
  const url = `${base}${catalog.path}`;
  return {
    name: `register ${snap} in keystone`,
    timeoutMs: 300000,
    retries: 2,
    retryDelayMs: 5000,
    run: async (ctx) => {
      const cloud = client(ctx, admin);
      const openstack = cloud.run;
      await cloud.ensure('project', 'service', ['--domain', 'default', 'service']);
      // snap-test's services authenticate as <snap> with the password <snap> (its config
      // snippets say so): a throwaway cloud's well-known value, not a secret.
      await cloud.ensure('user', snap, ['--domain', 'default', '--password', snap, snap]);
      await openstack('role', 'add', '--project', 'service', '--user', snap, 'admin');
      await cloud.ensure('service', snap, ['--name', snap, catalog.type]);
      for (const iface of ['public', 'internal', 'admin']) {
        const listed = await openstack(
          'endpoint',
          'list',
          '--service',
          snap,
          '--interface',
          iface,
          '-f',
          'value',
          '-c',
          'URL',
        );
        if (listed.output.some((line) => line.trim() === url)) continue;
        await openstack('endpoint', 'create', '--region', 'RegionOne', snap, iface, url);
      }
    },
  };
}

function installStep(snap: string, source: string, options: DeployOptions): Step {
  const channels = options.channels?.length ? options.channels : [`${options.track}/edge`];
  return {
    name: `install ${snap}${source === 'store' ? ` from ${channels[0]}` : ' (this build)'}`,
    timeoutMs: 900000,
    retries: source === 'store' ? 2 : 0,
    retryDelayMs: 10000,
    run: async (ctx: StepContext) => {
      if (source !== 'store') {
        if (!existsSync(source)) throw new ConfigurationError(`${source} does not exist.`);
        await ctx.run(['snap', 'install', '--dangerous', source], { asRoot: options.asRoot });
      } else {
        // The first channel that has the snap; only "not on this channel" moves on.
        const passed: string[] = [];
        for (const channel of channels) {
          const result = await ctx.run(['snap', 'install', snap, `--channel=${channel}`], {
            asRoot: options.asRoot,
            allowFailure: true,
          });
          if (result.code === 0) {
            if (passed.length) ctx.log(`${snap} from ${channel}: ${passed.join(', ')} had none`);
            options.onStoreInstall?.(snap, channel, passed);
            break;
          }
          if (!NOT_ON_CHANNEL.test(result.output.join('\n')) || channel === channels.at(-1))
            throw new StepFailure(
              `\`snap install ${snap} --channel=${channel}\` exited ${result.code}: ${result.output.at(-1) ?? ''}` +
                (passed.length ? ` (tried ${[...passed, channel].join(', ')})` : ''),
            );
          passed.push(channel);
        }
      }
      // nova-hypervisor needs its interfaces connected; the others auto-connect.
      if (snap === 'nova-hypervisor') {
        for (const plug of [
          'libvirt',
          'openvswitch',
          'network-control',
          'firewall-control',
          'hardware-observe',
          'system-observe',
        ]) {
          await ctx.run(['snap', 'connect', `nova-hypervisor:${plug}`], {
            allowFailure: true,
            asRoot: options.asRoot,
          });
        }
      }
    },
  };
}

// What snapd says when a channel (or its track) has no revision of the snap.
const NOT_ON_CHANNEL = /is not available on|non-existing (track|branch)|no revision/i;

/** Copies snap-test's snippets for a snap into /var/snap/<snap>/common/etc/ (as `install -D`). */
function configureStep(snap: string, options: DeployOptions): Step {
  const dir = join(options.etcDir, `snap-${snap}`);
  return {
    name: `configure ${snap}`,
    timeoutMs: 60000,
    run: async (ctx) => {
      const files = existsSync(dir) ? walk(dir) : [];
      for (const file of files) {
        await ctx.run(
          [
            'install',
            '-D',
            '-m',
            '0644',
            file,
            join(options.fsRoot ?? '/', 'var/snap', snap, 'common/etc', relative(dir, file)),
          ],
          { asRoot: options.asRoot },
        );
      }
    },
  };
}

/**
 * The openstack client with the admin credentials in its environment (it runs as the runner's
 * user). `ensure` makes a named resource only when there is none: it counts by listing, so a
 * failing lookup fails the step instead of passing for "absent", and two of one name (which
 * neutron, nova and Keystone's services allow, and which makes every later use of the name
 * ambiguous) stop the step with what to delete. That is what makes a retry after a partial
 * failure, and the upgrade level's second and third rounds, make only what is missing.
 */
function client(ctx: StepContext, admin: Readonly<Record<string, string>>) {
  // Only this cloud's credentials: an OS_CLOUD, OS_TOKEN or OS_PROJECT_ID of the job's (a
  // self-hosted runner on an OpenStack cloud has them) would point the client elsewhere.
  const run = (...args: string[]) =>
    ctx.run(['openstack', ...args], { env: admin, dropEnv: /^OS_/ });
  const named = async (kind: string, name: string, list: string[] = []): Promise<string[]> =>
    (await run(kind, 'list', ...list, '-f', 'value', '-c', 'ID', '-c', 'Name')).output
      .map((line) => line.trim().split(/\s+/))
      .filter(([, n]) => n === name)
      .map(([id]) => id!);
  return {
    run,
    named,
    ensure: async (
      kind: string,
      name: string,
      create: string[],
      list: string[] = [],
    ): Promise<void> => {
      const found = await named(kind, name, list);
      if (found.length > 1)
        throw new StepFailure(
          `${found.length} ${kind}s are named '${name}' (${found.join(', ')}): every later use of the name is ambiguous; delete all but one`,
          false,
        );
      if (found.length === 0) await run(kind, 'create', ...create);
    },
  };
}

function smokeSteps(
  options: DeployOptions,
  label: string,
  admin: Readonly<Record<string, string>>,
): Step[] {
  const cirros = options.cirrosImage!;
  return [
    {
      name: `${label}: image, flavor and network`,
      timeoutMs: options.waitMs * 2,
      run: async (ctx) => {
        const cloud = client(ctx, admin);
        await cloud.ensure('image', 'cirros', [
          '--disk-format',
          'qcow2',
          '--container-format',
          'bare',
          '--file',
          cirros,
          'cirros',
        ]);
        await cloud.ensure(
          'flavor',
          'm1.tiny',
          ['--ram', '512', '--disk', '1', '--vcpus', '1', 'm1.tiny'],
          ['--all'],
        );
        await cloud.ensure('network', 'test', ['test']);
        await cloud.ensure('subnet', 'test', [
          '--network',
          'test',
          '--subnet-range',
          '10.20.20.0/24',
          'test',
        ]);
      },
    },
    {
      name: `${label}: boot an instance and reach it`,
      timeoutMs: options.waitMs * 4,
      run: async (ctx) => {
        const cloud = client(ctx, admin);
        // Gone for sure: the client's `delete --wait` exits 0 even when the server went to
        // ERROR instead, so what is left is counted again.
        const removeAll = async (why: string): Promise<void> => {
          const found = await cloud.named('server', 'smoke-vm');
          for (const id of found) await cloud.run('server', 'delete', '--wait', id);
          const left = await cloud.named('server', 'smoke-vm');
          if (left.length > 0)
            throw new StepFailure(`smoke-vm ${left.join(', ')} could not be deleted (${why})`);
        };
        // One left by a round that failed after booting it would make the name ambiguous.
        await removeAll('left by an earlier round');
        await cloud.run(
          'server',
          'create',
          '--flavor',
          'm1.tiny',
          '--image',
          'cirros',
          '--network',
          'test',
          '--wait',
          'smoke-vm',
        );
        // `create --wait` also exits 0 when the server went to ERROR: its status says.
        const show = async (column: string) =>
          (await cloud.run('server', 'show', 'smoke-vm', '-f', 'value', '-c', column)).output
            .join(' ')
            .trim();
        const status = await show('status');
        if (status !== 'ACTIVE')
          throw new StepFailure(
            `smoke-vm is ${status || 'without a status'}, not ACTIVE${status === 'ERROR' ? `: ${await show('fault')}` : ''}`,
          );
        const address = await show('addresses');
        const ip = /(\d+\.\d+\.\d+\.\d+)/.exec(address)?.[1];
        if (!ip) throw new StepFailure(`smoke-vm has no address (${address})`);
        await ctx.run(['ping', '-c', '3', '-W', '5', ip]);
        await removeAll('after the smoke test');
      },
    },
  ];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
