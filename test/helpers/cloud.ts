import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setupCommand } from '../../scripts/lib/setup-hint.mjs';
import { ROOT, tempDir } from './fixtures.js';
import { uwsgiArgs } from './keystone.js';
import { onPath, type Capability } from './system.js';

/**
 * A real all-in-one cloud from Debian bookworm's packages (the zed series: keystone 22,
 * placement 8, glance 25, neutron 21, nova 26), with MariaDB, RabbitMQ and memcached, for the
 * smoke test's own steps to deploy and test.
 *
 * Only snapd and the service snaps are STAND-INS (test/standins/snap with SNAP_STANDIN_APPS):
 * each "snap" runs the service's own Debian code with the snap's layout, its file in
 * `<root>/snap/<name>/current/etc` and the action's snippets in `<root>/var/snap/<name>/common/etc`
 * (as snap-openstack passed `--config-file` and `--config-dir`), and `<name>.manage` is the
 * service's own manage command on that configuration. Two more stand-ins, for what cannot run
 * here: nova's fake compute driver (`fake.FakeDriver`, nova's own) in place of libvirt and KVM,
 * and an ML2 mechanism driver that binds ports as the Open vSwitch agent would
 * (test/standins/cloud/python), since no OVS dataplane runs here.
 *
 * MariaDB is left as a GitHub-hosted runner has MySQL: installed, stopped, root's password
 * `root`, on 127.0.0.1:3306; a `service` stand-in (no init system runs here) starts it. RabbitMQ
 * and memcached run, as apt-get leaves them once installed.
 */
export interface Cloud {
  /** Put first on PATH: snap, <snap>.manage, service, and the dataplane stand-ins. */
  readonly bin: string;
  /** The root the action's configure step writes `/var/snap/...` under (its `fsRoot`). */
  readonly fsRoot: string;
  /** What the steps' environment needs for the stand-ins. */
  readonly env: Readonly<Record<string, string>>;
  /** Every argv the `ping` and `ip` stand-ins were given, one per line. */
  readonly dataplaneLog: string;
  /** The log of one of a stand-in snap's apps, as `snap logs` reads it. */
  logOf(snap: string, app: string): string;
  stop(): Promise<void>;
}

/** The ports the snippets name (snap-test's defaults): each must be free. */
const PORTS: Record<number, string> = {
  3306: 'MySQL',
  5672: 'RabbitMQ',
  11211: 'memcached',
  5000: 'keystone',
  8778: 'placement',
  8774: 'nova',
  9696: 'neutron',
  9292: 'glance',
};

const PYTHON_MODULES = ['keystone', 'placement', 'glance', 'neutron', 'nova', 'pymysql'];

/** Whether this machine can run the real cloud, and why not. */
export async function cloudCapability(): Promise<Capability> {
  const setup = `${setupCommand('--system')} installs them`;
  if (process.getuid?.() !== 0)
    return {
      ok: false,
      reason:
        'the real cloud runs its services, MariaDB and RabbitMQ as root: run the tests as root',
    };
  const programs = ['uwsgi', 'mariadbd', 'mariadb-install-db', 'memcached', 'openstack'].filter(
    (p) => !onPath(p) && !existsSync(`/usr/sbin/${p}`),
  );
  if (!existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')) programs.push('rabbitmq-server');
  const modules = spawnSync('/usr/bin/python3', ['-c', `import ${PYTHON_MODULES.join(', ')}`], {
    encoding: 'utf8',
  });
  if (programs.length || modules.status !== 0)
    return {
      ok: false,
      reason: `${[...programs, ...(modules.status !== 0 ? [`Debian's OpenStack Python packages (${modules.stderr.trim().split('\n').pop()})`] : [])].join(', ')} not installed (${setup})`,
    };
  const busy = [];
  for (const [port, what] of Object.entries(PORTS))
    if (await listening(Number(port))) busy.push(`${port} (${what})`);
  if (busy.length)
    return {
      ok: false,
      reason: `ports the cloud's snippets name are taken: ${busy.join(', ')}; stop what listens there`,
    };
  return { ok: true, reason: '' };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

const PY = '/usr/bin/python3';
/** A Python entry point as Debian's /usr/bin scripts call it, named as the program. */
const entry = (module: string, program: string): string[] => [
  PY,
  '-c',
  `import sys; from ${module} import main; sys.argv[0] = '${program}'; sys.exit(main())`,
];

interface StandinSnap {
  /** The service's config file name under etc/<service>/, and its conf.d directory's name. */
  readonly service: string;
  readonly file: string;
  /** The snap's own configuration (what its templates render), with {common} for SNAP_COMMON. */
  readonly conf: string;
  /** Its daemons: the argv before the configuration arguments, or a uwsgi app. */
  readonly apps: Record<string, string[] | { wsgi: string; port: number }>;
  /** Its `manage` command. */
  readonly manage?: string[];
}

const SNAPS: Record<string, StandinSnap> = {
  keystone: {
    service: 'keystone',
    file: 'keystone.conf',
    // bcrypt's cheapest rounds: every client call logs in, and 12 rounds cost ~0.3 s of CPU each.
    conf: `[identity]
password_hash_rounds = 4
[token]
provider = fernet
[fernet_tokens]
key_repository = {common}/lib/fernet-keys
[fernet_receipts]
key_repository = {common}/lib/fernet-receipts
[credential]
key_repository = {common}/lib/credential-keys
`,
    apps: { uwsgi: { wsgi: '/usr/bin/keystone-wsgi-public', port: 5000 } },
    manage: ['/usr/bin/keystone-manage'],
  },
  placement: {
    service: 'placement',
    file: 'placement.conf',
    conf: `[api]
auth_strategy = keystone
`,
    apps: {
      uwsgi: { wsgi: join(ROOT, 'test/standins/cloud/python/placement_wsgi.py'), port: 8778 },
    },
    manage: ['/usr/bin/placement-manage'],
  },
  nova: {
    service: 'nova',
    file: 'nova.conf',
    conf: `[DEFAULT]
state_path = {common}/lib
my_ip = 127.0.0.1
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_workers = 1
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[conductor]
workers = 1
[scheduler]
workers = 1
[oslo_concurrency]
lock_path = {common}/lock
`,
    apps: {
      api: entry('nova.cmd.api_os_compute', 'nova-api-os-compute'),
      conductor: entry('nova.cmd.conductor', 'nova-conductor'),
      scheduler: entry('nova.cmd.scheduler', 'nova-scheduler'),
    },
    manage: entry('nova.cmd.manage', 'nova-manage'),
  },
  neutron: {
    service: 'neutron',
    file: 'neutron.conf',
    conf: `[DEFAULT]
core_plugin = ml2
service_plugins = router
bind_host = 127.0.0.1
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
api_paste_config = /etc/neutron/api-paste.ini
state_path = {common}/lib
[ml2]
type_drivers = flat,local
tenant_network_types = local
mechanism_drivers = osa_bind_without_agent
extension_drivers = port_security
[ml2_type_flat]
flat_networks = physnet1
[oslo_concurrency]
lock_path = {common}/lock
`,
    apps: { server: entry('neutron.cmd.eventlet.server', 'neutron-server') },
    manage: entry('neutron.db.migration.cli', 'neutron-db-manage'),
  },
  glance: {
    service: 'glance',
    file: 'glance-api.conf',
    conf: `[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = {common}/lib/images
[paste_deploy]
config_file = /etc/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = {common}/lock
`,
    apps: { api: entry('glance.cmd.api', 'glance-api') },
    manage: entry('glance.cmd.manage', 'glance-manage'),
  },
  'nova-hypervisor': {
    service: 'nova',
    file: 'nova.conf',
    conf: `[DEFAULT]
state_path = {common}/lib
instances_path = {common}/instances
my_ip = 127.0.0.1
compute_driver = fake.FakeDriver
[oslo_concurrency]
lock_path = {common}/lock
`,
    apps: { compute: entry('nova.cmd.compute', 'nova-compute') },
  },
};

/** Starts MariaDB (then stops it, as a runner image has it), RabbitMQ and memcached. */
export async function prepareCloud(): Promise<Cloud> {
  const dir = tempDir('osa-cloud-');
  const fsRoot = join(dir, 'fs');
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const dataplaneLog = join(dir, 'dataplane.log');
  writeFileSync(dataplaneLog, '');
  const script = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}`);
    chmodSync(join(bin, name), 0o755);
  };
  const daemons: number[] = [];

  // MariaDB, as a GitHub-hosted runner has MySQL: root's password is `root`, and it is stopped.
  const db = join(dir, 'mysql');
  mkdirSync(db);
  execFileSync('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${db}/data`,
    '--user=root',
    '--auth-root-authentication-method=normal',
  ]);
  const mariadbd = [
    'mariadbd',
    '--no-defaults',
    `--datadir=${db}/data`,
    '--user=root',
    '--bind-address=127.0.0.1',
    '--port=3306',
    `--socket=${db}/mysqld.sock`,
    `--pid-file=${db}/mysqld.pid`,
    `--log-error=${db}/error.log`,
  ];
  const startDb = [
    `${mariadbd.join(' ')} >/dev/null 2>&1 &`,
    'i=0; while [ $i -lt 100 ]; do',
    `  mariadb-admin --no-defaults --socket=${db}/mysqld.sock -u root --password=root ping >/dev/null 2>&1 && exit 0`,
    `  mariadb-admin --no-defaults --socket=${db}/mysqld.sock -u root ping >/dev/null 2>&1 && exit 0`,
    '  i=$((i+1)); sleep 0.2',
    'done',
    `echo "mariadbd did not start: $(tail -n 3 ${db}/error.log)" >&2; exit 1`,
    '',
  ].join('\n');
  execFileSync('sh', ['-c', startDb]);
  execFileSync('mariadb', [
    '--no-defaults',
    `--socket=${db}/mysqld.sock`,
    '-u',
    'root',
    '-e',
    "ALTER USER 'root'@'localhost' IDENTIFIED BY 'root'; FLUSH PRIVILEGES;",
  ]);
  const stopDb = `[ -f ${db}/mysqld.pid ] && kill "$(cat ${db}/mysqld.pid)" && while [ -f ${db}/mysqld.pid ]; do sleep 0.1; done; true\n`;
  execFileSync('sh', ['-c', stopDb]);
  // STAND-IN for the runner's init system (`service` hands over to systemd there; none runs here):
  // it starts and stops only this MariaDB, under the names Ubuntu's and Debian's packages give it.
  script(
    'service',
    [
      `echo "service $*" >> '${dataplaneLog}'`,
      'case "$1 $2" in',
      `  "mysql start"|"mariadb start") ${startDb.replace(/\n/g, '\n    ')};;`,
      `  "mysql stop"|"mariadb stop") ${stopDb.trim()} ;;`,
      '  *) echo "$1: unrecognized service" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
  );

  // RabbitMQ and memcached, running, as apt-get leaves them.
  // RabbitMQ runs as its own user, which cannot enter the test run's private directory.
  const rabbit = mkdtempSync(join(tmpdir(), 'osa-rabbitmq-'));
  chmodSync(rabbit, 0o755);
  mkdirSync(join(rabbit, 'mnesia'), { recursive: true });
  mkdirSync(join(rabbit, 'log'));
  execFileSync('chown', ['-R', 'rabbitmq:', rabbit]);
  const rabbitEnv = {
    ...process.env,
    RABBITMQ_MNESIA_BASE: join(rabbit, 'mnesia'),
    RABBITMQ_LOG_BASE: join(rabbit, 'log'),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
  };
  const started = spawn('/usr/sbin/rabbitmq-server', [], {
    env: rabbitEnv,
    detached: true,
    stdio: 'ignore',
  });
  started.unref();
  daemons.push(started.pid!);
  const memcached = spawn('memcached', ['-u', 'root', '-l', '127.0.0.1', '-p', '11211'], {
    detached: true,
    stdio: 'ignore',
  });
  memcached.unref();
  daemons.push(memcached.pid!);
  const deadline = Date.now() + 60000;
  while (spawnSync('rabbitmqctl', ['-q', 'await_startup'], { timeout: 20000 }).status !== 0) {
    if (Date.now() > deadline)
      throw new Error(
        `RabbitMQ did not start within 60 s: ${spawnSync('sh', ['-c', `tail -n 5 ${rabbit}/log/*.log /var/log/rabbitmq/startup_err`], { encoding: 'utf8' }).stdout}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }

  // The stand-in snaps: each one's own file, its conf.d, its apps, its manage command.
  const apps: Record<string, Record<string, { argv: string[]; env: Record<string, string> }>> = {};
  for (const [name, snap] of Object.entries(SNAPS)) {
    const common = join(fsRoot, 'var/snap', name, 'common');
    const etc = join(fsRoot, 'snap', name, 'current/etc', snap.service);
    mkdirSync(etc, { recursive: true });
    for (const sub of [
      'lib',
      'lock',
      'log',
      'instances',
      `etc/${snap.service}/${snap.service}.conf.d`,
    ])
      mkdirSync(join(common, sub), { recursive: true });
    const file = join(etc, snap.file);
    writeFileSync(file, snap.conf.replaceAll('{common}', common));
    const config = [
      '--config-file',
      file,
      '--config-dir',
      join(common, 'etc', snap.service, `${snap.service}.conf.d`),
    ];
    const env = { PYTHONPATH: join(ROOT, 'test/standins/cloud/python') };
    apps[name] = {};
    for (const [app, run] of Object.entries(snap.apps)) {
      apps[name][app] = Array.isArray(run)
        ? { argv: [...run, ...config], env }
        : {
            argv: ['uwsgi', ...uwsgiArgs(run.port, run.wsgi, config)],
            env,
          };
    }
    if (snap.manage)
      script(
        `${name}.manage`,
        `exec ${[...snap.manage, ...config].map(shellQuote).join(' ')} "$@"\n`,
      );
  }
  const appsFile = join(dir, 'apps.json');
  writeFileSync(appsFile, JSON.stringify({ root: fsRoot, snaps: apps }, null, 2));
  script('snap', `exec '${process.execPath}' '${join(ROOT, 'test/standins/snap')}' "$@"\n`);
  // The dataplane: no VM boots under the fake driver, and no OVS runs, so nothing answers a ping;
  // these STAND-INS record what they were asked and succeed, and the test reads the addresses back.
  for (const name of ['ping', 'ovs-vsctl', 'ip'])
    script(name, `echo "${name} $*" >> '${dataplaneLog}'\n`);
  const env = {
    SNAP_STANDIN_STATE: join(dir, 'snapd.json'),
    SNAP_STANDIN_APPS: appsFile,
  };
  return {
    bin,
    fsRoot,
    env,
    dataplaneLog,
    logOf: (snap, app) => join(fsRoot, 'var/snap', snap, 'common/log', `${app}.log`),
    stop: async () => {
      spawnSync(join(bin, 'snap'), ['stop', '--all'], { env: { ...process.env, ...env } });
      spawnSync('sh', ['-c', stopDb]);
      spawnSync('rabbitmqctl', ['-q', 'stop'], { env: rabbitEnv, timeout: 30000 });
      rmSync(rabbit, { recursive: true, force: true });
      for (const pid of daemons) {
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          // Gone already.
        }
      }
    },
  };
}
