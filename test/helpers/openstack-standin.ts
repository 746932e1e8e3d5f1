import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/git-fixtures.mjs';

/**
 * A STAND-IN for the compute (nova), network (neutron) and image (glance) APIs of snap-test's
 * all-in-one cloud, which cannot run here. Only the calls the smoke steps make through the real
 * openstack client are served, in the shapes the real services answer (version discovery,
 * lookups by id then by name, 201/202/204, conflicts, 404s), and it is as strict as they are
 * where it matters to the steps:
 *
 * - every request but version discovery needs an `X-Auth-Token` that the REAL Keystone accepts
 *   and that is scoped to a project; without one the answer is 401 with the Keystone it trusts,
 *   so a step that lost its credentials fails the test. As keystonemiddleware does, each service
 *   validates tokens (GET /v3/auth/tokens) as ITS OWN service user, with the credentials of
 *   snap-test's config snippets: a registration that gave the user another password, or no role
 *   in the service project, leaves the service unable to serve anyone (503);
 * - neutron allows two networks of one name (and then a lookup by that name is ambiguous), nova
 *   refuses a second flavor of one name, a server on a network without a subnet goes to ERROR,
 *   and an image must have its data before a server boots it;
 * - a server is BUILD first and ACTIVE a few polls later; deleting it takes a poll too.
 *
 * A `ping` stand-in answers only for the fixed address of an ACTIVE server.
 */
export interface OpenStackStandIn {
  readonly ports: { nova: number; neutron: number; glance: number };
  /** A directory with the `ping` stand-in, to put first on PATH. */
  readonly bin: string;
  /** Every request, as `<service> <METHOD> <path> <status>`. */
  readonly requests: string[];
  readonly state: Cloud;
  /** Restarts the services: each logs in to Keystone afresh and forgets the tokens it validated. */
  restart(): void;
  stop(): Promise<void>;
}

interface Resource {
  [key: string]: unknown;
  id: string;
  name: string;
}

interface Cloud {
  images: Resource[];
  flavors: Resource[];
  networks: Resource[];
  subnets: Resource[];
  servers: Resource[];
}

/** The service could not reach or log in to Keystone: it serves no one (keystonemiddleware's 503). */
class ServiceUnavailable extends Error {}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Handler = (
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
  body: Buffer,
  project: string,
) => Reply;

/** A service's own Keystone account, as its `[keystone_authtoken]` snippet gives it. */
export interface ServiceAccount {
  readonly username: string;
  readonly password: string;
  readonly project: string;
}

/** The `[keystone_authtoken]` account of each service, read from snap-test's snippets. */
export function serviceAccounts(etcDir: string): Record<Service, ServiceAccount> {
  const read = (service: Service): ServiceAccount => {
    const file = join(etcDir, `snap-${service}`, service, `${service}.conf.d`, 'keystone.conf');
    const section = readFileSync(file, 'utf8').split(/^\[keystone_authtoken\]$/m)[1] ?? '';
    const value = (key: string) =>
      new RegExp(`^${key}\\s*=\\s*(.*)$`, 'm').exec(section)?.[1]?.trim();
    return {
      username: value('username')!,
      password: value('password')!,
      project: value('project_name')!,
    };
  };
  return { nova: read('nova'), neutron: read('neutron'), glance: read('glance') };
}

type Service = 'nova' | 'neutron' | 'glance';

/**
 * Keystone's password login (POST /v3/auth/tokens) for a user of the Default domain, scoped to
 * `project` when given (unscoped otherwise); the token is the answer's X-Subject-Token.
 */
export function passwordToken(
  keystone: string,
  user: { name: string; password: string; project?: string },
): Promise<Response> {
  return fetch(`${keystone}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: user.name, domain: { name: 'Default' }, password: user.password },
          },
        },
        ...(user.project
          ? { scope: { project: { name: user.project, domain: { name: 'Default' } } } }
          : {}),
      },
    }),
  });
}

export async function startOpenStackStandIn(options: {
  keystone: string;
  dir: string;
  accounts: Record<Service, ServiceAccount>;
}): Promise<OpenStackStandIn> {
  const cloud: Cloud = { images: [], flavors: [], networks: [], subnets: [], servers: [] };
  const requests: string[] = [];
  const valid = new Map<string, { project: string; until: number }>();
  const reachable = join(options.dir, 'reachable');
  writeFileSync(reachable, '');
  const polls = new Map<string, number>();
  const ports = { nova: await freePort(), neutron: await freePort(), glance: await freePort() };
  const base = (port: number) => `http://127.0.0.1:${port}`;

  /** The service's own token, as keystonemiddleware logs in with the snippet's account. */
  const serviceTokens = new Map<Service, string>();
  async function serviceToken(service: Service): Promise<string> {
    const known = serviceTokens.get(service);
    if (known) return known;
    const account = options.accounts[service];
    const response = await passwordToken(options.keystone, {
      name: account.username,
      password: account.password,
      project: account.project,
    });
    const token = response.headers.get('x-subject-token');
    if (response.status !== 201 || !token)
      throw new ServiceUnavailable(
        `${service} cannot log in to Keystone as ${account.username} in project ${account.project} (${response.status})`,
      );
    serviceTokens.set(service, token);
    return token;
  }

  /** keystonemiddleware's check: the token, validated by Keystone itself, scoped to a project. */
  async function projectOf(req: IncomingMessage, service: Service): Promise<string | null> {
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || !token) return null;
    const cached = valid.get(`${service} ${token}`);
    if (cached && cached.until > Date.now()) return cached.project;
    const response = await fetch(`${options.keystone}/v3/auth/tokens`, {
      headers: { 'X-Auth-Token': await serviceToken(service), 'X-Subject-Token': token },
    });
    // The service's own token may not validate others' (no admin or service role).
    if (response.status === 403)
      throw new ServiceUnavailable(
        `${service}'s user may not validate tokens (403): it needs a role in its project`,
      );
    if (response.status !== 200) return null;
    const { token: body } = (await response.json()) as { token: { project?: { id: string } } };
    if (!body.project) return null;
    valid.set(`${service} ${token}`, { project: body.project.id, until: Date.now() + 60000 });
    return body.project.id;
  }

  function writeReachable(): void {
    writeFileSync(
      reachable,
      cloud.servers
        .filter((s) => s.status === 'ACTIVE')
        .flatMap((s) => Object.values(s.addresses as Record<string, { addr: string }[]>))
        .flat()
        .map((a) => `${a.addr}\n`)
        .join(''),
    );
  }

  /** BUILD → ACTIVE (or ERROR) on the third look; a deleted server is gone on the second. */
  function advance(server: Resource): void {
    const seen = (polls.get(server.id) ?? 0) + 1;
    polls.set(server.id, seen);
    if (server.deleting && seen >= 2) {
      cloud.servers = cloud.servers.filter((s) => s !== server);
      writeReachable();
    } else if (server.status === 'BUILD' && seen >= 3) {
      const error = server.pendingFault as string | undefined;
      server.status = error ? 'ERROR' : 'ACTIVE';
      server['OS-EXT-STS:vm_state'] = error ? 'error' : 'active';
      server['OS-EXT-STS:task_state'] = null;
      server['OS-EXT-STS:power_state'] = error ? 0 : 1;
      if (error) server.fault = { code: 500, message: error };
      if (!error) server.addresses = server.pendingAddresses;
      delete server.pendingFault;
      delete server.pendingAddresses;
      writeReachable();
    }
  }

  const json = (status: number, body: unknown): Reply => ({ status, body });
  /** A resource without the stand-in's own bookkeeping. */
  const shown = (resource: Resource): Resource =>
    Object.fromEntries(
      Object.entries(resource).filter(
        ([key]) => !['pendingAddresses', 'pendingFault', 'allocated', 'deleting'].includes(key),
      ),
    ) as Resource;
  const byIdOrName = (list: Resource[], key: string) => list.find((r) => r.id === key);
  const named = (list: Resource[], query: URLSearchParams) =>
    query.has('name') ? list.filter((r) => r.name === query.get('name')) : list;
  const parse = (body: Buffer): Record<string, Record<string, unknown>> | null => {
    try {
      return JSON.parse(body.toString('utf8')) as Record<string, Record<string, unknown>>;
    } catch {
      return null;
    }
  };

  const glance: Handler = (req, path, query, body, project) => {
    const m = /^\/v2\/images(?:\/([^/]+))?(\/file)?$/.exec(path);
    if (!m) return json(404, { message: `The resource could not be found: ${path}` });
    const [, id, file] = m;
    if (!id && req.method === 'GET') {
      const images = named(cloud.images, query);
      return json(200, { images, schema: '/v2/schemas/images', first: '/v2/images' });
    }
    if (!id && req.method === 'POST') {
      const spec = parse(body) as Record<string, unknown> | null;
      if (!spec || typeof spec.name !== 'string')
        return json(400, { message: 'Image name is required' });
      for (const [key, allowed] of [
        ['disk_format', ['qcow2', 'raw', 'vmdk', 'iso', 'ami']],
        ['container_format', ['bare', 'ovf', 'ami']],
      ] as const)
        if (spec[key] !== undefined && !(allowed as readonly unknown[]).includes(spec[key]))
          return json(400, { message: `Invalid value for ${key}` });
      const image: Resource = {
        ...spec,
        id: randomUUID(),
        name: spec.name,
        status: 'queued',
        visibility: spec.visibility ?? 'shared',
        owner: project,
        min_disk: 0,
        min_ram: 0,
        virtual_size: null,
        size: null,
        checksum: null,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
        file: '',
        self: '',
        schema: '/v2/schemas/image',
        tags: [],
        protected: false,
      };
      image.file = `/v2/images/${image.id}/file`;
      image.self = `/v2/images/${image.id}`;
      cloud.images.push(image);
      return json(201, image);
    }
    const image = byIdOrName(cloud.images, id!);
    if (!image) return { status: 404, body: `No image found with ID ${id}` };
    if (file && req.method === 'PUT') {
      if (image.status !== 'queued') return json(409, { message: 'Image is not queued' });
      if (!image.disk_format || !image.container_format)
        return json(400, { message: 'Properties disk_format, container_format must be set' });
      image.size = body.length;
      image.checksum = createHash('md5').update(body).digest('hex');
      image.os_hash_algo = 'sha512';
      image.os_hash_value = createHash('sha512').update(body).digest('hex');
      image.status = 'active';
      return { status: 204 };
    }
    if (!file && req.method === 'GET') return json(200, image);
    if (!file && req.method === 'DELETE') {
      cloud.images = cloud.images.filter((i) => i !== image);
      return { status: 204 };
    }
    return json(405, { message: 'Method not allowed' });
  };

  const neutron: Handler = (req, path, query, body, project) => {
    const m = /^\/v2\.0\/(networks|subnets)(?:\/([^/]+))?$/.exec(path);
    if (!m) return json(404, { NeutronError: { type: 'HTTPNotFound', message: path } });
    const [, kind, id] = m as unknown as [string, 'networks' | 'subnets', string | undefined];
    const one = kind.slice(0, -1);
    const list = cloud[kind];
    if (!id && req.method === 'GET') return json(200, { [kind]: named(list, query).map(shown) });
    if (!id && req.method === 'POST') {
      const spec = parse(body)?.[one];
      if (!spec) return json(400, { NeutronError: { type: 'BadRequest', message: 'no body' } });
      const now = new Date().toISOString();
      // The fields neutron answers with (the client formats them all).
      const resource: Resource = {
        description: '',
        tags: [],
        created_at: now,
        updated_at: now,
        revision_number: 1,
        ...spec,
        id: randomUUID(),
        name: String(spec.name ?? ''),
        project_id: project,
        tenant_id: project,
      };
      if (kind === 'networks') {
        Object.assign(resource, {
          subnets: [],
          status: 'ACTIVE',
          admin_state_up: spec.admin_state_up ?? true,
          shared: spec.shared ?? false,
          'router:external': spec['router:external'] ?? false,
          mtu: 1442,
          availability_zone_hints: [],
          availability_zones: ['nova'],
          ipv4_address_scope: null,
          ipv6_address_scope: null,
          port_security_enabled: true,
          is_default: null,
        });
      } else {
        const network = cloud.networks.find((n) => n.id === spec.network_id);
        if (!network)
          return json(404, {
            NeutronError: { type: 'NetworkNotFound', message: `Network ${spec.network_id}` },
          });
        if (!/^\d+\.\d+\.\d+\.0\/24$/.test(String(spec.cidr)))
          return json(400, { NeutronError: { type: 'BadRequest', message: 'cidr' } });
        (network.subnets as string[]).push(resource.id);
        const prefix = String(spec.cidr).replace(/0\/24$/, '');
        Object.assign(resource, {
          ip_version: spec.ip_version ?? 4,
          gateway_ip: spec.gateway_ip ?? `${prefix}1`,
          enable_dhcp: spec.enable_dhcp ?? true,
          allocation_pools: spec.allocation_pools ?? [{ start: `${prefix}2`, end: `${prefix}254` }],
          dns_nameservers: spec.dns_nameservers ?? [],
          host_routes: spec.host_routes ?? [],
          service_types: [],
          subnetpool_id: null,
          segment_id: null,
          ipv6_address_mode: null,
          ipv6_ra_mode: null,
          allocated: 2,
        });
      }
      list.push(resource);
      return json(201, { [one]: shown(resource) });
    }
    const resource = list.find((r) => r.id === id);
    if (!resource)
      return json(404, {
        NeutronError: { type: `${one[0]!.toUpperCase()}${one.slice(1)}NotFound`, message: id },
      });
    if (req.method === 'GET') return json(200, { [one]: shown(resource) });
    if (req.method === 'DELETE') {
      // A network goes with its subnets (no ports here: the servers keep their addresses).
      if (kind === 'networks')
        cloud.subnets = cloud.subnets.filter((n) => n.network_id !== resource.id);
      else
        for (const network of cloud.networks)
          network.subnets = (network.subnets as string[]).filter((id) => id !== resource.id);
      cloud[kind] = cloud[kind].filter((r) => r !== resource);
      return { status: 204 };
    }
    return json(405, { NeutronError: { type: 'HTTPMethodNotAllowed', message: path } });
  };

  const nova: Handler = (req, path, query, body, project) => {
    const specs = /^\/v2\.1\/flavors\/([^/]+)\/os-extra_specs$/.exec(path);
    if (specs && req.method === 'GET') {
      const flavor = cloud.flavors.find((f) => f.id === specs[1]);
      return flavor
        ? json(200, { extra_specs: flavor.extra_specs })
        : json(404, {
            itemNotFound: { code: 404, message: `Flavor ${specs[1]} could not be found.` },
          });
    }
    const m = /^\/v2\.1\/(flavors|servers)(?:\/(detail|[^/]+))?$/.exec(path);
    if (!m) return json(404, { itemNotFound: { code: 404, message: path } });
    const [, kind, sub] = m as unknown as [string, 'flavors' | 'servers', string | undefined];
    const one = kind.slice(0, -1);
    const notFound = (what: string) =>
      json(404, { itemNotFound: { code: 404, message: `${what} could not be found.` } });
    if ((!sub || sub === 'detail') && req.method === 'GET') {
      const list = named(cloud[kind], query);
      list.forEach((r) => kind === 'servers' && advance(r));
      return json(200, { [kind]: list.filter((r) => cloud[kind].includes(r)).map(shown) });
    }
    if (!sub && req.method === 'POST') {
      const spec = parse(body)?.[one];
      if (!spec) return json(400, { badRequest: { code: 400, message: 'Malformed request body' } });
      if (kind === 'flavors') {
        for (const key of ['name', 'ram', 'vcpus', 'disk'])
          if (spec[key] === undefined)
            return json(400, {
              badRequest: { code: 400, message: `'${key}' is a required property` },
            });
        if (cloud.flavors.some((f) => f.name === spec.name))
          return json(409, {
            conflictingRequest: {
              code: 409,
              message: `Flavor with name ${String(spec.name)} already exists.`,
            },
          });
        const flavor: Resource = {
          ...spec,
          id: typeof spec.id === 'string' && spec.id !== 'auto' ? spec.id : randomUUID(),
          name: String(spec.name),
          'os-flavor-access:is_public': spec['os-flavor-access:is_public'] ?? true,
          'OS-FLV-EXT-DATA:ephemeral': spec['OS-FLV-EXT-DATA:ephemeral'] ?? 0,
          swap: spec.swap ?? '',
          rxtx_factor: spec.rxtx_factor ?? 1.0,
          'OS-FLV-DISABLED:disabled': false,
          // In the view from microversion 2.61 (which the client asks for).
          extra_specs: {},
          description: spec.description ?? null,
          links: [],
        };
        cloud.flavors.push(flavor);
        return json(200, { flavor });
      }
      const image = cloud.images.find((i) => i.id === spec.imageRef);
      if (!image || image.status !== 'active')
        return json(400, {
          badRequest: { code: 400, message: `Image ${String(spec.imageRef)} is not active.` },
        });
      const flavor = cloud.flavors.find((f) => f.id === spec.flavorRef);
      if (!flavor)
        return json(400, {
          badRequest: {
            code: 400,
            message: `Flavor ${String(spec.flavorRef)} could not be found.`,
          },
        });
      const wanted = (spec.networks as { uuid?: string }[] | undefined) ?? [];
      const networks = wanted.map((w) => cloud.networks.find((n) => n.id === w.uuid));
      if (!wanted.length || networks.some((n) => !n))
        return json(400, { badRequest: { code: 400, message: 'Network could not be found.' } });
      const addresses: Record<string, Record<string, unknown>[]> = {};
      let fault: string | undefined;
      for (const network of networks as Resource[]) {
        const subnet = cloud.subnets.find((s) => (network.subnets as string[]).includes(s.id));
        if (!subnet) {
          fault = `Network ${network.id} requires a subnet in order to boot instances on.`;
          continue;
        }
        subnet.allocated = (subnet.allocated as number) + 1;
        addresses[network.name] = [
          {
            addr: String(subnet.cidr).replace(/0\/24$/, String(subnet.allocated)),
            version: 4,
            'OS-EXT-IPS:type': 'fixed',
            'OS-EXT-IPS-MAC:mac_addr': `fa:16:3e:00:00:${(subnet.allocated as number).toString(16).padStart(2, '0')}`,
          },
        ];
      }
      const now = new Date().toISOString();
      // The fields nova's 2.1 server view has (the client formats them all).
      const server: Resource = {
        id: randomUUID(),
        name: String(spec.name),
        status: 'BUILD',
        addresses: {},
        pendingAddresses: addresses,
        pendingFault: fault,
        image: { id: image.id, links: [] },
        flavor: { id: flavor.id, links: [] },
        created: now,
        updated: now,
        tenant_id: project,
        user_id: '',
        metadata: spec.metadata ?? {},
        hostId: '',
        accessIPv4: '',
        accessIPv6: '',
        progress: 0,
        key_name: spec.key_name ?? null,
        config_drive: '',
        security_groups: [{ name: 'default' }],
        'OS-DCF:diskConfig': 'MANUAL',
        'OS-EXT-AZ:availability_zone': 'nova',
        'OS-EXT-STS:power_state': 0,
        'OS-EXT-STS:task_state': 'scheduling',
        'OS-EXT-STS:vm_state': 'building',
        'OS-SRV-USG:launched_at': null,
        'OS-SRV-USG:terminated_at': null,
        'os-extended-volumes:volumes_attached': [],
        links: [],
      };
      cloud.servers.push(server);
      return {
        status: 202,
        body: { server: { id: server.id, links: [], adminPass: 'x', security_groups: [] } },
      };
    }
    const resource = cloud[kind].find((r) => r.id === sub);
    if (!resource) return notFound(`${one} ${sub}`);
    if (req.method === 'GET') {
      if (kind === 'servers') {
        advance(resource);
        if (!cloud.servers.includes(resource)) return notFound(`Instance ${sub}`);
      }
      return json(200, { [one]: shown(resource) });
    }
    if (req.method === 'DELETE' && kind === 'servers') {
      // Nova keeps the status while it deletes; the task state says so.
      resource['OS-EXT-STS:task_state'] = 'deleting';
      resource.deleting = true;
      polls.set(resource.id, 0);
      return { status: 204 };
    }
    if (req.method === 'DELETE' && kind === 'flavors') {
      cloud.flavors = cloud.flavors.filter((f) => f !== resource);
      return { status: 202 };
    }
    return json(405, { badMethod: { code: 405, message: path } });
  };

  const versions: Record<
    'nova' | 'neutron' | 'glance',
    (port: number, path: string) => Reply | null
  > = {
    nova: (port, path) => {
      const v21 = {
        id: 'v2.1',
        status: 'CURRENT',
        version: '2.95',
        min_version: '2.1',
        updated: '2013-07-23T11:33:21Z',
        links: [{ rel: 'self', href: `${base(port)}/v2.1/` }],
      };
      if (path === '/' || path === '') return json(200, { versions: [v21] });
      if (path === '/v2.1' || path === '/v2.1/') return json(200, { version: v21 });
      return null;
    },
    neutron: (port, path) =>
      path === '/' || path === ''
        ? json(200, {
            versions: [
              {
                id: 'v2.0',
                status: 'CURRENT',
                links: [{ rel: 'self', href: `${base(port)}/v2.0/` }],
              },
            ],
          })
        : null,
    glance: (port, path) =>
      path === '/' || path === '' || path === '/versions'
        ? json(300, {
            versions: [
              {
                id: 'v2.16',
                status: 'CURRENT',
                links: [{ rel: 'self', href: `${base(port)}/v2/` }],
              },
            ],
          })
        : null,
  };
  const handlers = { nova, neutron, glance };

  const servers: Server[] = [];
  for (const service of ['nova', 'neutron', 'glance'] as const) {
    const port = ports[service];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void (async () => {
          const url = new URL(req.url ?? '/', base(port));
          const path = url.pathname.replace(/\/$/, '') || '/';
          let reply = req.method === 'GET' ? versions[service](port, path) : null;
          if (!reply) {
            const project = await projectOf(req, service);
            reply = project
              ? handlers[service](req, path, url.searchParams, Buffer.concat(chunks), project)
              : {
                  status: 401,
                  body: {
                    error: {
                      code: 401,
                      title: 'Unauthorized',
                      message: 'The request you have made requires authentication.',
                    },
                  },
                  headers: { 'WWW-Authenticate': `Keystone uri="${options.keystone}"` },
                };
          }
          requests.push(`${service} ${req.method} ${url.pathname}${url.search} ${reply.status}`);
          const text =
            reply.body === undefined
              ? ''
              : typeof reply.body === 'string'
                ? reply.body
                : JSON.stringify(reply.body);
          res.writeHead(reply.status, {
            'Content-Type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
            'Content-Length': Buffer.byteLength(text),
            ...reply.headers,
          });
          res.end(text);
        })().catch((error: unknown) => {
          const status = error instanceof ServiceUnavailable ? 503 : 500;
          requests.push(`${service} ${req.method} ${req.url} ${status} ${String(error)}`);
          res.writeHead(status, { 'Content-Type': 'text/plain' }).end(String(error));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    servers.push(server);
  }

  writeFileSync(
    join(options.dir, 'ping'),
    [
      '#!/bin/sh',
      '# STAND-IN for ping: only the fixed address of an ACTIVE server of the stand-in cloud answers.',
      'for ip; do :; done',
      `if grep -qxF "$ip" '${reachable}'; then echo "3 packets transmitted, 3 received, 0% packet loss"; exit 0; fi`,
      'echo "3 packets transmitted, 0 received, 100% packet loss"; exit 1',
      '',
    ].join('\n'),
  );
  chmodSync(join(options.dir, 'ping'), 0o755);

  return {
    ports,
    bin: options.dir,
    requests,
    get state() {
      return cloud;
    },
    restart: () => {
      serviceTokens.clear();
      valid.clear();
    },
    stop: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}
