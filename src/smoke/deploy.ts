import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ConfigurationError } from '../platform/index.js';
import { StepFailure, type Step, type StepContext } from './engine.js';
import { canConnect, pollUntil, waitForHttp, waitForPort } from './waits.js';
import { client, together, tooMany } from './client.js';
import { EXTERNAL, smokeSteps, survivalSteps } from './rounds.js';
import {
  adminEnv,
  CATALOG,
  DATABASES,
  hasSmokeRecipe,
  SERVICES,
  type SmokeLevel,
  type SyncCommand,
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

/** Series whose nova snap still served placement (placement became a project of its own in Stein). */
const NOVA_SERVES_PLACEMENT = new Set(['mitaka', 'newton', 'ocata', 'pike', 'queens', 'rocky']);
const ownPlacement = (track: string): boolean => !NOVA_SERVES_PLACEMENT.has(track);

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
  // Else the deployment would run for minutes and fail at the image upload.
  if (
    options.level !== 'deploy' &&
    !statSync(options.cirrosImage!, { throwIfNoEntry: false })?.isFile()
  )
    throw new ConfigurationError(
      `'cirros-image' ${options.cirrosImage} is not a file: give the path of a downloaded cirros qcow2 image.`,
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
    databasesStep(options),
    // Where the external network's flat physnet1 lands (the OVS agent's bridge_mappings in
    // snap-test's openvswitch_agent.ini), with the external subnet's gateway address, so the
    // runner reaches the instances' floating addresses (devstack's PUBLIC_BRIDGE). Before
    // nova-hypervisor starts: its OVS agent exits at its start when a mapped bridge is missing.
    run('external bridge br-ex', [
      ['ovs-vsctl', '--may-exist', 'add-br', 'br-ex'],
      ['ip', 'address', 'replace', `${EXTERNAL.gateway}/24`, 'dev', 'br-ex'],
      ['ip', 'link', 'set', 'br-ex', 'up'],
    ]),
  ];
  for (const service of SERVICES) {
    // Before Stein the nova snap served placement itself (nova-placement-api, on placement's
    // port): no placement snap, but its catalog entry, registered after nova's.
    if (service.snap === 'placement' && !ownPlacement(options.track)) continue;
    const source =
      service.snap === options.snap
        ? upgrade
          ? 'store'
          : options.file
        : (options.companions?.[service.snap] ?? 'store');
    steps.push(installStep(service.snap, source, options));
    steps.push(configureStep(service.snap, options));
    if (service.sync.length) steps.push(syncStep(service.snap, service.sync, options));
    // Its services read the config snippets and the schema when they start (snap-test restarted
    // them here too).
    steps.push(run(`restart ${service.snap}`, [['snap', 'restart', service.snap]], 300000, 1));
    steps.push(waitApi(service.snap, options, host));
    if (service.snap === 'keystone') steps.push(bootstrapStep(admin, options));
    if (service.snap === 'nova-hypervisor') steps.push(discoverHostsStep(options));
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
    if (service.snap === 'nova' && !ownPlacement(options.track))
      steps.push(
        registerStep(
          'placement',
          CATALOG.placement!,
          `http://${host}:${portOf('placement', options)}`,
          admin,
        ),
      );
  }
  if (options.level === 'deploy') return steps;
  steps.push(...smokeSteps(options, 'smoke', admin));
  if (!upgrade) return steps;
  // Store revision deployed and smoke-tested above; now the new build, then back, with a server
  // kept across both.
  const survival = survivalSteps(options, admin);
  steps.push(
    survival.keep,
    run(`refresh ${options.snap} to the new build`, [
      ['snap', 'install', '--dangerous', options.file],
    ]),
    waitApi(options.snap, options, host),
    survival.check('refresh'),
    ...smokeSteps(options, 'smoke after refresh', admin, false),
    run(`revert ${options.snap}`, [['snap', 'revert', options.snap]]),
    waitApi(options.snap, options, host),
    survival.check('revert'),
    ...smokeSteps(options, 'smoke after revert', admin, false),
  );
  return steps;
}

/**
 * MySQL's databases and users for every service. MySQL is started where it is stopped (a
 * GitHub-hosted runner's image has it installed but stopped), and root logs in the way this
 * machine has it: by its socket without a password, as apt-get's mysql-server makes it
 * (auth_socket), else over TCP with the password of the hosted runners' images, `root`, which
 * reaches mysql in a defaults file only its owner reads, not in argv.
 */
function databasesStep(options: DeployOptions): Step {
  const root = { asRoot: options.asRoot };
  const sql = DATABASES.map((db) => {
    const user = db.split('_')[0]!;
    return `CREATE DATABASE IF NOT EXISTS ${db}; CREATE USER IF NOT EXISTS '${user}'@'localhost' IDENTIFIED BY '${user}'; GRANT ALL PRIVILEGES ON ${db}.* TO '${user}'@'localhost';`;
  }).join(' ');
  return {
    name: 'databases',
    timeoutMs: options.waitMs + 120000,
    retries: 1,
    retryDelayMs: 5000,
    run: async (ctx) => {
      if (!(await canConnect('127.0.0.1', 3306, 1000))) {
        ctx.log('MySQL is not listening on 127.0.0.1:3306: starting it');
        await ctx.run(['service', 'mysql', 'start'], root);
        await waitForPort('127.0.0.1', 3306, options.waitMs, ctx.signal);
      }
      const bySocket = await ctx.run(['mysql', '-u', 'root', '-e', sql], {
        ...root,
        allowFailure: true,
      });
      if (bySocket.code === 0) return;
      // In a file only its owner reads, named by the first option: sudo keeps no variable that
      // a narrow sudoers rule does not allow, and MySQL deprecates MYSQL_PWD.
      const dir = mkdtempSync(join(tmpdir(), 'osa-mysql-'));
      const defaults = join(dir, 'root.cnf');
      writeFileSync(
        defaults,
        '[client]\nuser=root\npassword=root\nprotocol=TCP\nhost=127.0.0.1\n',
        {
          mode: 0o600,
        },
      );
      const byPassword = await ctx
        .run(['mysql', `--defaults-extra-file=${defaults}`, '-e', sql], {
          ...root,
          allowFailure: true,
        })
        .finally(() => rmSync(dir, { recursive: true, force: true }));
      if (byPassword.code !== 0)
        throw new StepFailure(
          `MySQL refused root by its socket (${bySocket.output.at(-1) ?? `exit ${bySocket.code}`}) and with the hosted runners' password 'root' (${byPassword.output.at(-1) ?? `exit ${byPassword.code}`})`,
        );
    },
  };
}

/** A service's db sync: its commands in order, as root, inside the snap. */
function syncStep(snap: string, commands: readonly SyncCommand[], options: DeployOptions): Step {
  return {
    name: `db sync ${snap}`,
    timeoutMs: 600000,
    run: async (ctx) => {
      for (const command of commands) {
        const argv = [...command.argv];
        const result = await ctx.run(argv, {
          asRoot: options.asRoot,
          allowFailure: Boolean(command.alreadyDone),
        });
        if (result.code === 0) continue;
        if (command.alreadyDone?.test(result.output.join('\n'))) {
          ctx.log(`${argv.join(' ')}: there already`);
          continue;
        }
        throw new StepFailure(
          `\`${argv.join(' ')}\` exited ${result.code}${result.output.length ? `: ${result.output.at(-1)}` : ''}`,
        );
      }
    },
  };
}

/**
 * Maps the compute host into cell1 (nova-manage cell_v2 discover_hosts), once its nova-compute
 * has started and reported: until then discover_hosts finds nothing and the scheduler sees no
 * host ("No valid host was found").
 */
function discoverHostsStep(options: DeployOptions): Step {
  const root = { asRoot: options.asRoot };
  return {
    name: 'discover compute hosts',
    timeoutMs: options.waitMs + 120000,
    run: async (ctx) =>
      pollUntil(
        async () => {
          // May exit 2 ("Duplicate host mapping") when the scheduler's own periodic discovery
          // (discover_hosts_in_cells_interval) maps the host at the same moment: list_hosts
          // decides.
          await ctx.run(['nova.manage', 'cell_v2', 'discover_hosts', '--verbose'], {
            ...root,
            allowFailure: true,
          });
          const hosts = await ctx.run(['nova.manage', 'cell_v2', 'list_hosts'], root);
          return hosts.output.some((line) => /^\|\s*cell1\s*\|/.test(line));
        },
        {
          timeoutMs: options.waitMs,
          intervalMs: 3000,
          signal: ctx.signal,
          what: () =>
            "no compute host was mapped to cell1 (nova-hypervisor's nova-compute has not reported: see its log)",
        },
      ),
  };
}

function waitApi(snap: string, options: DeployOptions, host: string): Step {
  const service = SERVICES.find((s) => s.snap === snap)!;
  return {
    name: service.port ? `wait for ${snap} API` : `wait for ${snap} services`,
    timeoutMs: options.waitMs + 30000,
    run: async (ctx) => {
      const restartsBefore = await restarts(ctx, snap, options);
      const port = portOf(snap, options);
      if (port)
        await waitForHttp(`http://${host}:${port}${service.path}`, {
          timeoutMs: options.waitMs,
          signal: ctx.signal,
        });
      await servicesRunning(ctx, snap, options, restartsBefore);
    },
  };
}

/**
 * How often systemd has restarted each of the snap's daemons (snapd's units restart on failure,
 * so a daemon that dies at its start shows "active" most of the time). Empty where systemd does
 * not run.
 */
async function restarts(
  ctx: StepContext,
  snap: string,
  options: DeployOptions,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const app of await daemons(ctx, snap, options)) {
    const shown = await ctx.run(
      ['systemctl', 'show', '--property=NRestarts', '--value', `snap.${app}.service`],
      { asRoot: options.asRoot, allowFailure: true },
    );
    const count = Number(shown.output.at(-1));
    if (shown.code === 0 && Number.isInteger(count)) counts.set(app, count);
  }
  return counts;
}

/** The snap's daemons as `snap services` lists them: each app's name, startup, current state. */
async function daemons(
  ctx: StepContext,
  snap: string,
  options: DeployOptions,
  state?: 'inactive',
): Promise<string[]> {
  const listed = await ctx.run(['snap', 'services', snap], { asRoot: options.asRoot });
  return (
    listed.output
      .map((line) => line.trim().split(/\s+/))
      // Enabled, started by snapd itself (Notes "-": not timer- or socket-activated), and in the
      // state asked: a snap's hooks may disable a daemon on purpose.
      .filter(
        ([app, startup, current, notes]) =>
          app?.startsWith(`${snap}.`) &&
          startup === 'enabled' &&
          notes === '-' &&
          (!state || current === state),
      )
      .map(([app]) => app!)
  );
}

/**
 * Every daemon of the snap still running a few seconds after its API answered. `snap restart`
 * succeeds when a daemon dies right after it starts (nova-scheduler does when the catalog has no
 * placement endpoint), and its API answers all the same; the server boot would then fail much
 * later with an RPC timeout. The daemon's own last words say why.
 */
// eslint-disable-next-line no-control-regex -- the escape character is what it removes
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

async function servicesRunning(
  ctx: StepContext,
  snap: string,
  options: DeployOptions,
  restartsBefore: Map<string, number>,
) {
  const root = { asRoot: options.asRoot };
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const restartsNow = await restarts(ctx, snap, options);
  const stopped = [
    ...(await daemons(ctx, snap, options, 'inactive')),
    ...[...restartsNow]
      .filter(([app, count]) => count > (restartsBefore.get(app) ?? count))
      .map(([app]) => app),
  ];
  if (stopped.length === 0) return;
  const words = [];
  for (const app of stopped) {
    const logs = (
      await ctx.run(['snap', 'logs', '-n', '200', app], { ...root, allowFailure: true })
    ).output;
    // What it said as it died, without terminal colours: the last two messages before the last
    // traceback oslo.log printed (each traceback line is logged at ERROR too; an earlier death,
    // before the snap was configured, is further up the same log).
    const messages = logs
      .map((line) => line.replace(ANSI_COLOUR, ''))
      .map((line) => /\b(?:ERROR|CRITICAL)\s+\S+\s+(?:\[[^\]]*\]\s+)?(.*)$/.exec(line)?.[1] ?? '');
    const traceback = messages.findLastIndex((message) => message.startsWith('Traceback'));
    const said = messages
      .slice(0, traceback === -1 ? messages.length : traceback)
      .filter((message) => message && !/^(\s|File ")/.test(message))
      .slice(-2)
      .join(' ');
    words.push(
      `${app} ${restartsNow.get(app)! > (restartsBefore.get(app) ?? Infinity) ? 'died and was restarted' : 'is not running'}${said ? `: ${said}` : ' (its log says nothing at ERROR)'}`,
    );
  }
  throw new StepFailure(words.join('; '));
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
 * client. A retry after a partial failure makes only what is missing (and never a second
 * endpoint): Keystone keeps project and user names unique in a domain, so those are made with
 * `--or-show` (one call: the create, or the one there); services and endpoints may repeat, so
 * they are listed before they are made. Each call is seconds, mostly the client's start: the
 * user's chain and the catalog's run side by side, and the catalog's two listings too, so a
 * fresh registration is three calls deep.
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
      const domain = ['--or-show', '--domain', 'default'];
      await together([
        (async () => {
          await openstack('project', 'create', ...domain, 'service');
          // snap-test's services authenticate as <snap> with the password <snap> (its config
          // snippets say so): a throwaway cloud's well-known value, not a secret.
          await openstack('user', 'create', ...domain, '--password', snap, snap);
          await openstack(
            ...['role', 'add', '--project', 'service', '--project-domain', 'default'],
            ...['--user', snap, '--user-domain', 'default', 'admin'],
          );
        })(),
        (async () => {
          const [services, endpoints] = await together([
            cloud.named('service', snap),
            openstack(
              ...['endpoint', 'list', '-f', 'value'],
              ...['-c', 'Service Name', '-c', 'Interface', '-c', 'URL'],
            ),
          ]);
          if (services.length > 1) throw tooMany('service', snap, services);
          if (services.length === 0)
            await openstack('service', 'create', '--name', snap, catalog.type);
          // Only the interfaces without this URL are made.
          const listed = endpoints.output.map((line) => line.trim());
          await together(
            ['public', 'internal', 'admin']
              .filter((iface) => !listed.includes(`${snap} ${iface} ${url}`))
              .map((iface) =>
                openstack('endpoint', 'create', '--region', 'RegionOne', snap, iface, url),
              ),
          );
        })(),
      ]);
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

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
