/** What snap-test's all-in-one cloud is made of: its services, databases, catalog and admin. */

export type SmokeLevel = 'deploy' | 'smoke' | 'upgrade';

/** The service snaps of snap-test's cloud, in its order, with their API ports and db-sync commands. */
export const SERVICES = [
  {
    snap: 'keystone',
    port: 5000,
    path: '/v3',
    // The key repositories first (as snap-test did; the snap's hooks make none), then the schema.
    sync: [
      ['keystone.manage', 'fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root'],
      [
        'keystone.manage',
        'credential_setup',
        '--keystone-user',
        'root',
        '--keystone-group',
        'root',
      ],
      ['keystone.manage', 'db_sync'],
    ],
  },
  {
    snap: 'nova',
    port: 8774,
    path: '/',
    sync: [
      ['nova.manage', 'api_db', 'sync'],
      ['nova.manage', 'cell_v2', 'map_cell0'],
      ['nova.manage', 'db', 'sync'],
    ],
  },
  { snap: 'neutron', port: 9696, path: '/', sync: [['neutron.manage', 'upgrade', 'head']] },
  { snap: 'glance', port: 9292, path: '/', sync: [['glance.manage', 'db_sync']] },
  { snap: 'nova-hypervisor', port: 0, path: '', sync: [] },
] as const;

export const DATABASES = ['keystone', 'nova', 'nova_api', 'nova_cell0', 'neutron', 'glance'];

/** Service catalog entries snap-test registered: type and the API path of the endpoint. */
export const CATALOG: Record<string, { type: string; path: string }> = {
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
