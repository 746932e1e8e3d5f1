/** What snap-test's all-in-one cloud is made of: its services, databases, catalog and admin. */

export type SmokeLevel = 'deploy' | 'smoke' | 'upgrade';

/**
 * A command of a service's db sync. `alreadyDone`: what the command says, exiting non-zero, when
 * what it makes is there already (nova-manage's create_cell), which a re-run takes as done.
 */
export interface SyncCommand {
  readonly argv: readonly string[];
  readonly alreadyDone?: RegExp;
}

const sync = (...argv: string[]): SyncCommand => ({ argv });

/**
 * The service snaps of snap-test's cloud, in its order, with their API ports and db-sync commands.
 * Placement is a service of its own since Stein (it was nova's `nova-placement-api` before); nova
 * needs it to schedule anything.
 */
export const SERVICES: readonly {
  readonly snap: string;
  readonly port: number;
  readonly path: string;
  readonly sync: readonly SyncCommand[];
}[] = [
  {
    snap: 'keystone',
    port: 5000,
    path: '/v3',
    // The key repositories first (as snap-test did; the snap's hooks make none), then the schema.
    sync: [
      sync(
        'keystone.manage',
        'fernet_setup',
        '--keystone-user',
        'root',
        '--keystone-group',
        'root',
      ),
      sync(
        'keystone.manage',
        'credential_setup',
        '--keystone-user',
        'root',
        '--keystone-group',
        'root',
      ),
      sync('keystone.manage', 'db_sync'),
    ],
  },
  { snap: 'placement', port: 8778, path: '/', sync: [sync('placement.manage', 'db', 'sync')] },
  {
    snap: 'nova',
    port: 8774,
    path: '/',
    // nova's documented order (install guide, "Install and configure controller node"): the API
    // database, cell0's mapping, cell1, then the cell database. create_cell is not idempotent: it
    // exits 2 saying the cell "already exists" (nova/cmd/manage.py, CellV2Commands.create_cell).
    sync: [
      sync('nova.manage', 'api_db', 'sync'),
      sync('nova.manage', 'cell_v2', 'map_cell0'),
      {
        argv: ['nova.manage', 'cell_v2', 'create_cell', '--name=cell1', '--verbose'],
        alreadyDone: /already exists/,
      },
      sync('nova.manage', 'db', 'sync'),
    ],
  },
  { snap: 'neutron', port: 9696, path: '/', sync: [sync('neutron.manage', 'upgrade', 'head')] },
  { snap: 'glance', port: 9292, path: '/', sync: [sync('glance.manage', 'db_sync')] },
  { snap: 'nova-hypervisor', port: 0, path: '', sync: [] },
];

export const DATABASES = [
  'keystone',
  'placement',
  'nova',
  'nova_api',
  'nova_cell0',
  'neutron',
  'glance',
];

/** Service catalog entries snap-test registered: type and the API path of the endpoint. */
export const CATALOG: Record<string, { type: string; path: string }> = {
  placement: { type: 'placement', path: '' },
  nova: { type: 'compute', path: '/v2.1' },
  neutron: { type: 'network', path: '' },
  glance: { type: 'image', path: '' },
};

/**
 * The admin credentials the bootstrap creates and the client steps use, for the Keystone at
 * `authUrl`, with the run's own password (made afresh for every run, and masked). They reach the
 * client in its environment: never argv, never sudo (the client runs as the runner's user, so
 * nothing resets its environment).
 */
export function adminEnv(authUrl: string, password: string): Readonly<Record<string, string>> {
  return { ...ADMIN_ENV, OS_AUTH_URL: authUrl, OS_PASSWORD: password };
}

const ADMIN_ENV = {
  OS_USERNAME: 'admin',
  OS_PROJECT_NAME: 'admin',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_IDENTITY_API_VERSION: '3',
};

/**
 * Whether the all-in-one cloud has a recipe for a snap: the one place that decides which snaps
 * are smoke-tested. Others (cinder, heat, horizon ...) are skipped with a notice, not failed.
 */
export function hasSmokeRecipe(snap: string): boolean {
  return SERVICES.some((s) => s.snap === snap);
}
