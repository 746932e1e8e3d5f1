import { StepFailure, type Step, type StepContext } from './engine.js';
import { client, together, type Client } from './client.js';
import type { DeployOptions } from './deploy.js';
import { pollUntil } from './waits.js';

/** The external network (devstack's public network) and the instances' own. */
export const EXTERNAL = { cidr: '172.24.4.0/24', gateway: '172.24.4.1' };
const TENANT = { cidr: '192.168.222.0/24' };

/**
 * The image, flavor and networks a server needs, made only where missing: the external network
 * (flat on physnet1, which br-ex carries) with its subnet, the instances' network and subnet, and
 * a router between them; ICMP allowed in the admin project's default security group.
 */
async function ensureTopology(ctx: StepContext, cloud: Client, cirros: string): Promise<void> {
  // Independent chains side by side (each client call is seconds, mostly the client's start);
  // the router joins the two subnets after.
  await together([
    cloud.ensure('image', 'cirros', [
      '--disk-format',
      'qcow2',
      '--container-format',
      'bare',
      '--file',
      cirros,
      'cirros',
    ]),
    cloud.ensure(
      'flavor',
      'm1.tiny',
      ['--ram', '512', '--disk', '1', '--vcpus', '1', 'm1.tiny'],
      ['--all'],
    ),
    (async () => {
      await cloud.ensure('network', 'external', [
        '--external',
        '--provider-network-type',
        'flat',
        '--provider-physical-network',
        'physnet1',
        'external',
      ]);
      await cloud.ensure('subnet', 'external', [
        '--network',
        'external',
        '--subnet-range',
        EXTERNAL.cidr,
        '--gateway',
        EXTERNAL.gateway,
        '--no-dhcp',
        'external',
      ]);
    })(),
    (async () => {
      await cloud.ensure('network', 'test', ['test']);
      await cloud.ensure('subnet', 'test', [
        '--network',
        'test',
        '--subnet-range',
        TENANT.cidr,
        'test',
      ]);
    })(),
    allowIcmp(cloud),
  ]);
  await cloud.ensure('router', 'test', ['test']);
  await cloud.run('router', 'set', '--external-gateway', 'external', 'test');
  const attached = await cloud.run(
    'port',
    'list',
    '--router',
    'test',
    '--fixed-ip',
    'subnet=test',
    '-f',
    'value',
    '-c',
    'ID',
  );
  if (!attached.output.some((line) => line.trim()))
    await cloud.run('router', 'add', 'subnet', 'test', 'test');
  ctx.log(`external ${EXTERNAL.cidr} via br-ex ${EXTERNAL.gateway}; instances on ${TENANT.cidr}`);
}

/** ICMP allowed into the admin project's default security group, where no rule allows it. */
async function allowIcmp(cloud: Client): Promise<void> {
  const [group] = (
    await cloud.run(
      'security',
      'group',
      'list',
      '--project',
      'admin',
      '-f',
      'value',
      '-c',
      'ID',
      '-c',
      'Name',
    )
  ).output
    .map((line) => line.trim().split(/\s+/))
    .filter(([, name]) => name === 'default')
    .map(([id]) => id!);
  if (!group) throw new StepFailure("the admin project has no 'default' security group");
  const icmp = await cloud.run(
    'security',
    'group',
    'rule',
    'list',
    group,
    '--protocol',
    'icmp',
    '--ingress',
    '-f',
    'value',
    '-c',
    'ID',
  );
  if (!icmp.output.some((line) => line.trim()))
    await cloud.run(
      'security',
      'group',
      'rule',
      'create',
      '--protocol',
      'icmp',
      '--ingress',
      group,
    );
}

/** A server's fields as `server show -f json` gives them (one call for all of them). */
async function showServer(cloud: Client, name: string): Promise<Record<string, unknown>> {
  const printed = (await cloud.run('server', 'show', name, '-f', 'json')).output.join('\n');
  try {
    return JSON.parse(printed) as Record<string, unknown>;
  } catch {
    throw new StepFailure(
      `\`openstack server show ${name}\` did not print JSON: ${printed.slice(-200)}`,
    );
  }
}

const text = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);

/** A server of the name booted to ACTIVE (`create --wait` exits 0 on ERROR too: its status says). */
async function bootServer(cloud: Client, name: string): Promise<Record<string, unknown>> {
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
    name,
  );
  const server = await showServer(cloud, name);
  if (server.status !== 'ACTIVE')
    throw new StepFailure(
      `${name} is ${text(server.status) || 'without a status'}, not ACTIVE${server.status === 'ERROR' ? `: ${text(server.fault)}` : ''}`,
    );
  return server;
}

/**
 * A smoke round: what a server needs (only in the first round: the rounds after the refresh and
 * the revert read it back in the survival check instead), then a server booted, given a floating
 * address, reached and deleted.
 */
export function smokeSteps(
  options: DeployOptions,
  label: string,
  admin: Readonly<Record<string, string>>,
  first = true,
): Step[] {
  const cirros = options.cirrosImage!;
  return [
    ...(first
      ? [
          {
            name: `${label}: image, flavor, networks and router`,
            timeoutMs: options.waitMs * 2,
            run: async (ctx: StepContext) => ensureTopology(ctx, client(ctx, admin), cirros),
          },
        ]
      : []),
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
        await bootServer(cloud, 'smoke-vm');
        // Reached from the runner through the router: a floating address on the external network.
        const floating = (
          await cloud.run(
            'floating',
            'ip',
            'create',
            'external',
            '-f',
            'value',
            '-c',
            'floating_ip_address',
          )
        ).output
          .join(' ')
          .trim();
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(floating))
          throw new StepFailure(`neutron gave no floating address (${floating})`);
        await cloud.run('server', 'add', 'floating', 'ip', 'smoke-vm', floating);
        // Neutron associates it at once; nova shows it once neutron's batched notification
        // (every 2 s) reaches it, and the instance answers once it has booted and the router
        // carries the address: both are polled until the wait's bound.
        const bound = { timeoutMs: options.waitMs, intervalMs: 2000, signal: ctx.signal };
        let addresses = '';
        await pollUntil(
          async () => {
            addresses = text((await showServer(cloud, 'smoke-vm')).addresses);
            return addresses.includes(floating);
          },
          { ...bound, what: () => `smoke-vm did not show ${floating} (${addresses})` },
        );
        await pollUntil(
          async () =>
            (await ctx.run(['ping', '-c', '1', '-W', '2', floating], { allowFailure: true }))
              .code === 0,
          { ...bound, what: () => `${floating} did not answer ping` },
        );
        await removeAll('after the smoke test');
        await cloud.run('floating', 'ip', 'delete', floating);
      },
    },
  ];
}

/**
 * The upgrade level's proof that an upgrade keeps what the cloud holds: a server booted before the
 * refresh, and the image and network it uses, are there after the refresh and after the revert,
 * the same ones (by id), and the server still ACTIVE.
 */
export function survivalSteps(
  options: DeployOptions,
  admin: Readonly<Record<string, string>>,
): { keep: Step; check: (when: string) => Step } {
  const kept: Record<string, string> = {};
  // The server's status is kept with the ids: ACTIVE when kept, so a change is a failure.
  const ids = async (cloud: Client): Promise<Record<string, string>> => {
    const id = async (kind: string, name: string) =>
      (await cloud.run(kind, 'show', name, '-f', 'value', '-c', 'id')).output.join('').trim();
    const [server, image, network] = await together([
      showServer(cloud, 'upgrade-vm'),
      id('image', 'cirros'),
      id('network', 'test'),
    ]);
    return { server: text(server.id), 'server status': text(server.status), image, network };
  };
  return {
    keep: {
      name: 'boot a server to keep across the upgrade',
      timeoutMs: options.waitMs * 4,
      run: async (ctx) => {
        const cloud = client(ctx, admin);
        if ((await cloud.named('server', 'upgrade-vm')).length === 0)
          await bootServer(cloud, 'upgrade-vm');
        Object.assign(kept, await ids(cloud));
        if (kept['server status'] !== 'ACTIVE')
          throw new StepFailure(`upgrade-vm is ${kept['server status']}, not ACTIVE`);
        ctx.log(
          `kept: ${Object.entries(kept)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
      },
    },
    check: (when) => ({
      name: `the server, image and network survived the ${when}`,
      timeoutMs: options.waitMs * 2,
      run: async (ctx) => {
        const cloud = client(ctx, admin);
        const now = await ids(cloud);
        const changed = Object.keys(kept).filter((k) => now[k] !== kept[k]);
        if (changed.length)
          throw new StepFailure(
            `after the ${when}: ${changed.map((k) => `${k} ${kept[k]} is now ${now[k] || 'gone'}`).join('; ')}`,
          );
      },
    }),
  };
}
