import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuildImage, snapcraftWrapper, ubuntuDebootstrap } from '../src/build/image.js';
import { buildInContainer } from '../src/build/container.js';
import { DirectoryCache } from '../src/platform/dir-cache.js';
import { ConfigurationError } from '../src/platform/errors.js';
import { Lxd } from '../src/platform/lxd.js';
import { downloadStoreRevision, resolveStoreRevision } from '../src/store/download.js';
import { fixture, tempDir } from './helpers/fixtures.js';
import { serveStandinSnapcraft, startSnapDownloads } from './helpers/snap-store.js';
import { makeStandinSnapcraftSnaps } from './helpers/snaps.js';
import {
  announceSkip,
  deleteImage,
  exportRootfs,
  lxdCapability,
  describeWhen,
  SQUASHFS,
} from './helpers/system.js';

const withSnaps = describeWhen(SQUASHFS, 'store download tests with real .snap files');

const lxd = new Lxd();
/** What LXD says the image an alias names is. */
const lxdFingerprint = (alias: string): string =>
  /^Fingerprint:\s*(\S+)/m.exec(
    execFileSync('lxc', ['image', 'info', alias], { encoding: 'utf8' }),
  )![1]!;
const NO_INIT = { 'raw.lxc': 'lxc.init.cmd = /bin/sleep infinity' };

describe('build image recipe (pure)', () => {
  it('debootstraps Ubuntu from the archive for amd64 and from ports for the others', () => {
    expect(ubuntuDebootstrap('noble', 'amd64').mirror).toBe('http://archive.ubuntu.com/ubuntu');
    const ports = ubuntuDebootstrap('jammy', 'ppc64el');
    expect(ports.mirror).toBe('http://ports.ubuntu.com/ubuntu-ports');
    expect(ports.sources).toEqual([
      'deb http://ports.ubuntu.com/ubuntu-ports jammy main restricted universe multiverse',
      'deb http://ports.ubuntu.com/ubuntu-ports jammy-updates main restricted universe multiverse',
      'deb http://ports.ubuntu.com/ubuntu-ports jammy-security main restricted universe multiverse',
    ]);
  });

  it('writes a wrapper that runs snapcraft with its own python, and refuses unsafe values', () => {
    const rev = { name: 'snapcraft', revision: 15000, version: '8.9.2', arch: 'arm64' };
    const wrapper = snapcraftWrapper(
      { ...rev, channel: '8.x/stable', url: '', sha3_384: '', size: 0 },
      'arm64',
    );
    expect(wrapper).toContain('export SNAP_VERSION=8.9.2\n');
    expect(wrapper).toContain('exec "$SNAP/bin/python3" "$SNAP/bin/snapcraft" "$@"');
    expect(() =>
      snapcraftWrapper(
        { ...rev, version: '8.9;rm -rf /', channel: '', url: '', sha3_384: '', size: 0 },
        'arm64',
      ),
    ).toThrow(ConfigurationError);
  });
});

withSnaps('the store info API (HTTP on 127.0.0.1)', () => {
  let store: Awaited<ReturnType<typeof startSnapDownloads>>;
  beforeAll(async () => {
    const snaps = makeStandinSnapcraftSnaps(tempDir('osa-standin-snaps-'), {
      arch: 'arm64',
      version: '8.9.2',
      base: 'core22',
    });
    store = await startSnapDownloads([
      {
        name: 'snapcraft',
        track: '8.x',
        risk: 'stable',
        arch: 'arm64',
        revision: 15001,
        version: '8.9.2',
        file: snaps.snapcraft,
      },
    ]);
  });
  afterAll(() => store.stop());
  const snapcraft8x = () =>
    resolveStoreRevision({
      name: 'snapcraft',
      channel: '8.x/stable',
      arch: 'arm64',
      api: store.url,
    });

  it('picks the revision of a track and risk for the asked architecture', async () => {
    const rev = await snapcraft8x();
    expect(rev).toMatchObject({ revision: 15001, version: '8.9.2', channel: '8.x/stable' });
  });

  it('downloads again when the connection drops, and checks what it got', async () => {
    const rev = await snapcraft8x();
    const dir = tempDir('osa-downloads-');
    const retries: number[] = [];
    store.dropNextDownload();
    const file = await downloadStoreRevision(rev, dir, {
      attempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 1,
      sleep: async (ms) => {
        retries.push(ms);
      },
    });
    expect(retries).toHaveLength(1);
    expect(file).toBe(join(dir, 'snapcraft_15001.snap'));
    expect(readdirSync(dir)).toEqual(['snapcraft_15001.snap']);
    // A corrupted download is not retried into acceptance: it fails, and leaves no file.
    store.corruptNextDownload();
    await expect(downloadStoreRevision(rev, tempDir('osa-downloads-'))).rejects.toThrow(
      /did not download intact/,
    );
    expect(existsSync(`${file}.partial`)).toBe(false);
  });

  it('says which channels exist when the asked one has nothing, and which snap is unknown', async () => {
    await expect(
      resolveStoreRevision({
        name: 'snapcraft',
        channel: '9.x/edge',
        arch: 'arm64',
        api: store.url,
      }),
    ).rejects.toThrow(/nothing in 9.x\/edge for arm64 \(it has 8.x\/stable\)/);
    await expect(
      resolveStoreRevision({ name: 'snapcraft', channel: 'stable', arch: 's390x', api: store.url }),
    ).rejects.toThrow(ConfigurationError);
    await expect(
      resolveStoreRevision({ name: 'snapcraf', channel: 'stable', arch: 'arm64', api: store.url }),
    ).rejects.toThrow(/no snap called 'snapcraf'/);
  });
});

const capability = lxdCapability(['osa-arm64']);
if (!capability.ok) announceSkip('build image system tests', capability.reason);
const system = capability.ok ? describe : describe.skip;

system(
  'an emulated arm64 build image with snapcraft unpacked in it (stand-in snapcraft and core22 snaps from a store on 127.0.0.1; LXD, qemu-user, tar, unsquashfs real)',
  () => {
    let store: Awaited<ReturnType<typeof startSnapDownloads>>;
    let rootfsTarball: string;
    const cacheRoot = tempDir('osa-image-cache-');
    const revision = 20000 + Math.floor(Math.random() * 10000); // names this run's image
    const alias = `osa-snapcraft-bookworm-arm64-r${revision}`;
    const prAlias = `osa-pr-snapcraft-bookworm-arm64-r${revision}`;
    const records = tempDir('osa-image-records-');

    beforeAll(async () => {
      // The test image's root filesystem stands for a debootstrapped Ubuntu one.
      rootfsTarball = exportRootfs('osa-arm64');
      store = await serveStandinSnapcraft({
        arch: 'arm64',
        track: '8.x',
        revision,
        version: '8.9.2',
      });
    });
    afterAll(async () => {
      await store.stop();
      deleteImage(alias);
      deleteImage(prAlias);
    });

    const ensure = (workDir = tempDir('osa-image-work-'), trusted = true) =>
      ensureBuildImage({
        trusted,
        records,
        lxd,
        arch: 'arm64',
        series: 'bookworm',
        snapcraftChannel: '8.x/stable',
        rootfs: { tarball: rootfsTarball },
        storeApi: store.url,
        cache: new DirectoryCache(cacheRoot),
        keySuffix: '2026w48',
        workDir,
      });

    it('refuses a download whose bytes are not the published ones, and imports nothing', async () => {
      store.corruptNextDownload();
      await expect(ensure()).rejects.toThrow(/snapcraft revision \d+ did not download intact/);
      expect(await lxd.imageExists(alias)).toBe(false);
      expect(readdirSync(cacheRoot)).toEqual([]);
    }, 300000);

    it('builds it, saves it, and a build in it runs snapcraft through the wrapper under emulation', async () => {
      const image = await ensure();
      expect(image).toMatchObject({
        alias,
        source: 'built',
        saved: true,
        snapcraft: { revision, version: '8.9.2' },
        base: { name: 'core22', revision: 2000 },
        cacheKey: `osa-build-image-v1-bookworm-arm64-snapcraft-r${revision}-2026w48`,
      });

      const project = tempDir('osa-image-project-');
      cpSync(fixture('openstack-archive/snap-keystone/master'), project, { recursive: true });
      const out = tempDir('osa-image-out-');
      const lines: string[] = [];
      const result = await buildInContainer({
        lxd,
        projectDir: project,
        arch: 'arm64',
        image: image.alias,
        instanceConfig: NO_INIT,
        command: ['snapcraft', 'pack', '--destructive-mode'],
        outputDir: join(out, 'snaps'),
        logsDir: join(out, 'logs'),
        log: (line) => lines.push(line),
      });
      expect(result.snaps.map((s) => [s.name, s.arch])).toEqual([['keystone', 'arm64']]);
      expect(lines).toContain('Packed keystone_ocata_arm64.snap');
    }, 600000);

    it('is reused from LXD, and restored from the cache once LXD lost it, without downloading', async () => {
      const before = store.requests.filter((r) => r.startsWith('GET /download/')).length;
      expect(await ensure()).toMatchObject({ source: 'present', saved: false });
      execFileSync('lxc', ['image', 'delete', alias]);
      expect(await ensure()).toMatchObject({ source: 'restored', saved: false });
      expect(await lxd.imageExists(alias)).toBe(true);
      expect(store.requests.filter((r) => r.startsWith('GET /download/')).length).toBe(before);
    }, 300000);

    it('lets a pull request build in the verified trusted image, and never the other way round', async () => {
      const pr = await ensure(tempDir('osa-image-work-'), false);
      expect(pr).toMatchObject({ alias, source: 'present', saved: false });
      expect(pr.cacheKey).toMatch(/^osa-pr-build-image-v1-/);

      // Without the trusted image, a pull request makes its own, under its own names only.
      const cacheBefore = readdirSync(cacheRoot).sort();
      execFileSync('lxc', ['image', 'delete', alias]);
      const own = await ensure(tempDir('osa-image-work-'), false);
      expect(own).toMatchObject({ alias: prAlias, source: 'built', saved: true });
      expect(await lxd.imageExists(alias)).toBe(false);
      const added = readdirSync(cacheRoot).filter((e) => !cacheBefore.includes(e));
      expect(added).toEqual([
        `osa-pr-build-image-v1-bookworm-arm64-snapcraft-r${revision}-2026w48`,
      ]);

      // A release build ignores it, and does not take an image put under its name by someone else.
      const impostor = lxdFingerprint(prAlias);
      execFileSync('lxc', ['image', 'alias', 'create', alias, impostor]);
      const release = await ensure();
      expect(release).toMatchObject({ alias, source: 'restored' });
      expect(lxdFingerprint(alias)).not.toBe(impostor);
      expect(lxdFingerprint(prAlias)).toBe(impostor);
    }, 600000);
  },
);
