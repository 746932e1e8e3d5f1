import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { wheelCacheKeys } from '../src/build/caches.js';
import { DirectoryCache } from '../src/platform/dir-cache.js';
import { join } from 'node:path';
import { snapcraftChannelFor } from '../src/snapcraft/bases.js';
import { fixture, ROOT, tempDir } from './helpers/fixtures.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { freePort } from '../scripts/lib/git-fixtures.mjs';
import { runBundle } from './helpers/run-action.js';
import { snapOpenstackProject } from './helpers/snaps.js';
import { serveStandinSnapcraft } from './helpers/snap-store.js';
import {
  announceSkip,
  deleteImage,
  exportRootfs,
  lxdCapability,
  describeWhen,
  SQUASHFS,
} from './helpers/system.js';

const withSnaps = describeWhen(SQUASHFS, 'build action tests with real .snap files');

const lxd = lxdCapability(['osa-arm64']);
if (!lxd.ok) announceSkip('emulated build action tests', lxd.reason);

let server: Awaited<ReturnType<typeof serveRequirements>>;
beforeAll(async () => {
  server = await serveRequirements();
});
afterAll(async () => server?.stop());

/** A core24 OpenStack snap project (snap-openstack's stable/2025.1 shape, reduced to what the stand-in packs). */
function project(): string {
  return snapOpenstackProject('osa-build-action-');
}

const env = (extra: Record<string, string> = {}) => ({
  PATH: `${join(ROOT, 'test/standins')}:${process.env.PATH}`,
  HOME: tempDir('osa-home-'),
  GITHUB_REF_NAME: 'stable/2025.1',
  ...extra,
});

withSnaps('the build action, from its bundle (stand-in snapcraft on PATH)', () => {
  it('applies the constraints, builds natively, and outputs the snap and a manifest', async () => {
    const dir = project();
    const run = await runBundle(
      'build',
      { project: dir, constraints: 'true', 'requirements-repo': server.url, setup: 'false' },
      env(),
    );
    expect(run.stdout).not.toContain('::error::');
    expect(run.status).toBe(0);
    expect(run.outputs).toMatchObject({ name: 'openstack', version: '2025.1', arch: 'amd64' });
    expect(existsSync(run.outputs.snap!)).toBe(true);
    const manifest = JSON.parse(run.outputs.manifest!) as {
      snapcraftChannel: string;
      constraints: { ref: string; commit: string };
      snaps: { sha3_384: string }[];
    };
    expect(manifest.snapcraftChannel).toBe('latest/stable');
    expect(manifest.constraints).toMatchObject({
      ref: 'stable/2025.1',
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(manifest.snaps[0]!.sha3_384).toMatch(/^[0-9a-f]{96}$/);
    expect(run.summary).toContain('openstack 2025.1 for amd64');
    // Native builds keep pip's wheels in craft's shared cache, keyed by the constraints commit.
    expect(run.summary).toMatch(
      new RegExp(`pip wheels.*osa-craft-v1-noble-amd64-${manifest.constraints.commit}.*miss`),
    );
  });

  it('fails naming the part, with snapcraft logs kept in logs-dir', async () => {
    const run = await runBundle(
      'build',
      { project: project(), setup: 'false' },
      env({ STANDIN_FAIL_PART: 'sunbeam-and-openstackclients' }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /::error::build: The amd64 build failed: part 'sunbeam-and-openstackclients' failed in its build step/,
    );
    expect(readdirSync(run.outputs['logs-dir']!).sort()).toEqual([
      'build-output.log',
      'snapcraft-logs',
    ]);
    expect(run.summary).toContain('build failed');
  });

  it.each([[{ arch: 'ppc64le' }, /'ppc64le' is not an architecture.*ppc64el, not ppc64le/]])(
    'refuses %j',
    async (inputs, message) => {
      const run = await runBundle(
        'build',
        { project: project(), setup: 'false', ...inputs },
        env(),
      );
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(message);
      expect(run.outputs.snap).toBeUndefined();
    },
  );

  it('says the store cannot be reached, and builds nothing', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await runBundle(
      'build',
      { project: project(), setup: 'false', arch: 'arm64', emulate: 'true', 'store-api': closed },
      env(),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      `cannot reach the Snap Store at ${closed} for snapcraft (ECONNREFUSED)`,
    );
    expect(run.outputs.snap).toBeUndefined();
  });

  it('makes a xenial build image for a snap without a base, with snapcraft 4.x (which runs 2.43 for it)', async () => {
    const dir = tempDir('osa-build-nobase-');
    cpSync(fixture('openstack-archive/snap-keystone/master'), dir, { recursive: true });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await runBundle(
      'build',
      { project: dir, arch: 'arm64', emulate: 'true', setup: 'false', 'store-api': closed },
      env(),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('::group::Build image: Ubuntu xenial for arm64 with snapcraft');
    expect(run.stdout).toContain(`cannot reach the Snap Store at ${closed} for snapcraft`);
  });

  it('builds a snap without a base with snapcraft 4.x, as `snapcraft cleanbuild`', async () => {
    const dir = tempDir('osa-build-nobase-');
    cpSync(join(ROOT, 'test/snaps/nobase-nova-subdir'), dir, { recursive: true });
    const argv = join(tempDir(), 'argv');
    const run = await runBundle(
      'build',
      {
        project: dir,
        setup: 'false',
        constraints: 'true',
        ref: 'stable/ocata',
        'requirements-repo': server.url,
      },
      env({ STANDIN_SNAPCRAFT_CHANNEL: '4.x/stable', STANDIN_ARGV_LOG: argv }),
    );
    expect(run.stdout).not.toContain('::error::');
    expect(run.status).toBe(0);
    expect(readFileSync(argv, 'utf8').split('\n')).toContain('cleanbuild');
    // The stand-in 2.43 found the constraints from both parts, the one under a source-subdir too.
    expect(run.stdout).toMatch(
      /Building tools \(stand-in 2\.43 python plugin: [1-9]\d* constraints/,
    );
    expect(JSON.parse(run.outputs.manifest!)).toMatchObject({ snapcraftChannel: '4.x/stable' });
  });

  it('refuses snapcraft 4.x (as it names itself) for a core24 snap, before it builds', async () => {
    const run = await runBundle(
      'build',
      { project: project(), setup: 'false' },
      env({ STANDIN_SNAPCRAFT_CHANNEL: '4.x/stable' }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /::error::snapcraft, version 4\.8\.3 \(stand-in\) cannot build .* \(base core24\): the base needs snapcraft from latest\/stable/,
    );
  });

  it('refuses a snapcraft that cannot build the base, before it builds', async () => {
    const dir = tempDir('osa-build-nobase-');
    cpSync(join(ROOT, 'test/snaps/nobase-nova-subdir'), dir, { recursive: true });
    const run = await runBundle('build', { project: dir, setup: 'false' }, env());
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /::error::snapcraft 9\.0\.0 \(stand-in\) cannot build .*snapcraft\.yaml \(no base\): the base needs snapcraft from 4\.x\/stable\. Set 'setup: true'/,
    );
  });

  (lxd.ok ? it : it.skip)(
    'builds an emulated arm64 snap in an LXD container',
    async () => {
      const run = await runBundle(
        'build',
        {
          project: project(),
          arch: 'arm64',
          emulate: 'true',
          image: 'osa-arm64',
          'lxd-config': 'raw.lxc=lxc.init.cmd = /bin/sleep infinity',
          'container-command': 'sh ./snapcraft-pack.sh',
        },
        env(),
      );
      expect(run.stdout).not.toContain('::error::');
      expect(run.outputs).toMatchObject({ arch: 'arm64', name: 'openstack' });
      expect(run.outputs.snap).toMatch(/openstack_2025\.1_arm64\.snap$/);
    },
    300000,
  );
});

(lxd.ok ? describe : describe.skip)(
  'the build action making its own emulated arm64 build image (stand-in snapcraft and core22 snaps from a store on 127.0.0.1; LXD and qemu-user real)',
  () => {
    let store: Awaited<ReturnType<typeof serveStandinSnapcraft>>;
    let rootfs: string;
    const revision = 30000 + Math.floor(Math.random() * 10000);
    const alias = `osa-snapcraft-noble-arm64-r${revision}`;
    beforeAll(async () => {
      rootfs = exportRootfs('osa-arm64');
      store = await serveStandinSnapcraft({
        arch: 'arm64',
        track: 'latest',
        revision,
        version: '9.1.0',
      });
    });
    afterAll(async () => {
      await store.stop();
      deleteImage(alias);
    });

    it('builds the image once, then restores it and the pip wheels from the cache', async () => {
      const cacheDir = tempDir('osa-build-cache-');
      // A self-hosted runner's tool cache: where the image fingerprints are recorded between jobs.
      const runnerEnv = () => env({ RUNNER_TOOL_CACHE: toolCache });
      const toolCache = tempDir('osa-tool-cache-');
      const inputs = {
        arch: 'arm64',
        emulate: 'true',
        setup: 'false',
        rootfs,
        'store-api': store.url,
        'cache-dir': cacheDir,
      };
      const first = await runBundle('build', { ...inputs, project: project() }, runnerEnv());
      expect(first.stdout).not.toContain('::error::');
      expect(first.outputs).toMatchObject({ arch: 'arm64', 'build-image': alias });
      expect(first.outputs.snap).toMatch(/openstack_2025\.1_arm64\.snap$/);
      const manifest = JSON.parse(first.outputs.manifest!) as Record<string, unknown>;
      expect(manifest).toMatchObject({
        image: alias,
        snapcraft: { revision, version: '9.1.0' },
        caches: {
          buildImage: { source: 'built', saved: true },
          wheels: { restoredFrom: null, saved: true, files: expect.any(Number) },
        },
      });
      expect(first.summary).toMatch(/build image.*miss: built, saved/);
      expect(first.summary).toMatch(/pip wheels.*miss; \d+ files after the build, saved/);

      // A fresh runner: LXD has no such image, the cache directory has both.
      execFileSync('lxc', ['image', 'delete', alias]);
      const downloads = store.requests.filter((r) => r.startsWith('GET /download/')).length;
      const second = await runBundle('build', { ...inputs, project: project() }, runnerEnv());
      expect(second.stdout).not.toContain('::error::');
      expect(second.stdout).toContain('Using cached wheel for dqlite');
      expect(JSON.parse(second.outputs.manifest!)).toMatchObject({
        caches: { buildImage: { source: 'restored' }, wheels: { saved: false } },
      });
      expect(second.summary).toMatch(/build image.*hit: restored/);
      expect(second.summary).toMatch(/pip wheels.*hit;/);
      expect(store.requests.filter((r) => r.startsWith('GET /download/')).length).toBe(downloads);

      // A pull request on the same runner builds in the verified release image and reads the
      // release's wheels, but writes its wheels only under its own names.
      const before = readdirSync(cacheDir);
      const pr = await runBundle(
        'build',
        { ...inputs, project: project() },
        { ...runnerEnv(), GITHUB_EVENT_NAME: 'pull_request' },
      );
      expect(pr.stdout).not.toContain('::error::');
      expect(JSON.parse(pr.outputs.manifest!)).toMatchObject({
        image: alias,
        caches: {
          buildImage: { source: 'present' },
          wheels: { restoredFrom: expect.stringMatching(/^osa-pip-v1-noble-arm64-/), saved: true },
        },
      });
      expect(readdirSync(cacheDir).filter((e) => !before.includes(e))).toEqual([
        expect.stringMatching(/^osa-pr-pip-v1-noble-arm64-/),
      ]);
    }, 600000);
  },
);

describe('snapcraft channels', () => {
  it('picks snapcraft by base', () => {
    expect(snapcraftChannelFor('core24', 'f')).toBe('latest/stable');
    expect(snapcraftChannelFor('core22', 'f')).toBe('latest/stable');
    expect(snapcraftChannelFor('core20', 'f')).toBe('8.x/stable');
    expect(snapcraftChannelFor('core18', 'f')).toBe('7.x/stable');
    expect(snapcraftChannelFor('core26', 'f')).toBe('latest/stable');
    expect(snapcraftChannelFor('core', 'f')).toBe('4.x/stable');
    expect(snapcraftChannelFor(null, 'snapcraft.yaml')).toBe('4.x/stable');
  });
});

describe('caches by trust', () => {
  it('never gives a release build what a pull request saved; a pull request may read a release’s', async () => {
    const cache = new DirectoryCache(tempDir('osa-trust-cache-')).prefixCache();
    const keys = (trusted: boolean, constraintsCommit = 'c2') =>
      wheelCacheKeys({ kind: 'pip', series: 'noble', arch: 'arm64', constraintsCommit, trusted });
    const wheels = tempDir('osa-wheels-');
    writeFileSync(join(wheels, 'dqlite-1.0-py3-none-any.whl'), 'wheel');
    const into = () => join(tempDir('osa-restore-'), 'wheels');

    await cache.save([wheels], keys(false).key);
    expect(keys(false).key).toBe('osa-pr-pip-v1-noble-arm64-c2');
    expect(await cache.restore([into()], keys(true).key, keys(true).prefixes)).toBeUndefined();

    await cache.save([wheels], keys(true, 'c1').key);
    expect(await cache.restore([into()], keys(true).key, keys(true).prefixes)).toBe(
      'osa-pip-v1-noble-arm64-c1',
    );
    expect(await cache.restore([into()], keys(false).key, keys(false).prefixes)).toBe(
      'osa-pr-pip-v1-noble-arm64-c2',
    );
    expect(
      await cache.restore([into()], keys(false, 'c3').key, keys(false, 'c3').prefixes),
    ).toMatch(/^osa-(pr-)?pip-v1-noble-arm64-c[12]$/);
  });
});
