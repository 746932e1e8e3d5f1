import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { machine } from 'node:os';
import { join } from 'node:path';
import { hostArch } from './elf.js';
import { trustScope } from './caches.js';
import {
  ConfigurationError,
  execOk,
  ExternalError,
  type FileCache,
  type Lxd,
} from '../platform/index.js';
import { readSnapInfo } from '../snapcraft/index.js';
import { downloadStoreRevision, resolveStoreRevision, type StoreRevision } from '../store/index.js';

/** Where a build image's root filesystem comes from. */
export type RootfsSource =
  /** A tarball of a root filesystem of the target architecture (an earlier debootstrap's). */
  { readonly tarball: string } | { readonly debootstrap: DebootstrapSpec };

export interface DebootstrapSpec {
  readonly suite: string;
  readonly mirror: string;
  readonly components: readonly string[];
  readonly variant: string;
  readonly include: readonly string[];
  /** Lines for /etc/apt/sources.list (updates and security pockets). */
  readonly sources: readonly string[];
}

/** Ubuntu `series` for `arch`: the archive for amd64, ports for the rest. */
export function ubuntuDebootstrap(series: string, arch: string): DebootstrapSpec {
  const mirror =
    arch === 'amd64' || arch === 'i386'
      ? 'http://archive.ubuntu.com/ubuntu'
      : 'http://ports.ubuntu.com/ubuntu-ports';
  const components = ['main', 'restricted', 'universe', 'multiverse'];
  return {
    suite: series,
    mirror,
    components,
    // buildd: build-essential is there, as in snapcraft's own build instances.
    variant: 'buildd',
    include: ['ca-certificates', 'git', 'sudo', 'gnupg', 'locales'],
    sources: ['', '-updates', '-security'].map(
      (pocket) => `deb ${mirror} ${series}${pocket} ${components.join(' ')}`,
    ),
  };
}

export interface BuildImageOptions {
  readonly lxd: Lxd;
  /** The architecture the image is for (the build's target). */
  readonly arch: string;
  /** The Ubuntu release of the snap's base (snapcraft/bases.ts); names the image. */
  readonly series: string;
  readonly snapcraftChannel: string;
  readonly rootfs: RootfsSource;
  /** The Snap Store info API (a local one in tests). */
  readonly storeApi?: string;
  /** Keeps the image between runs (the Actions cache on runners). */
  readonly cache?: FileCache;
  /** Appended to the cache key, e.g. the ISO week, so the rootfs's packages are refreshed. */
  readonly keySuffix?: string;
  /** A trusted build's images and cache entries are named apart from a pull request's (caches.ts). */
  readonly trusted: boolean;
  /** The directory where the fingerprint of each image this toolkit imported is recorded. */
  readonly records: string;
  readonly workDir: string;
  readonly log?: (line: string) => void;
}

export interface BuildImage {
  /** The LXD image alias to build in. */
  readonly alias: string;
  readonly source: 'present' | 'restored' | 'built';
  readonly cacheKey: string;
  /** Whether this run saved it to the cache. */
  readonly saved: boolean;
  readonly snapcraft: { readonly revision: number; readonly version: string };
  readonly base: { readonly name: string; readonly revision: number } | null;
}

const SAFE_VALUE = /^[A-Za-z0-9.+~:_-]+$/;

/**
 * An LXD image of `arch` with snapcraft in it, for builds that emulate a foreign architecture:
 * snapcraft's LXD provider cannot launch a foreign instance, and snapd does not run under
 * qemu-user, so snapcraft (and the base snap its binaries are linked against) are unpacked from
 * their .snap files into /snap/<name>/current, with a wrapper on PATH. The snaps come from the
 * store's public API for the target architecture, checked by SHA3-384.
 *
 * Reused when LXD already has it, restored from the cache when there, built otherwise (and saved).
 * The image is named by the snapcraft revision, so a new snapcraft release makes a new image.
 */
export async function ensureBuildImage(options: BuildImageOptions): Promise<BuildImage> {
  const { lxd, arch, series, log = () => {} } = options;
  if (!/^[a-z][a-z0-9]*$/.test(series))
    throw new ConfigurationError(`'${series}' is not an Ubuntu series name.`);
  const snapcraft = await resolveStoreRevision({
    name: 'snapcraft',
    channel: options.snapcraftChannel,
    arch,
    api: options.storeApi,
  });
  const aliasIn = (trusted: boolean): string =>
    `${trustScope(trusted)}-snapcraft-${series}-${arch}-r${snapcraft.revision}`;
  const alias = aliasIn(options.trusted);
  const cacheKey = `${trustScope(options.trusted)}-build-image-v1-${series}-${arch}-snapcraft-r${snapcraft.revision}${options.keySuffix ? `-${options.keySuffix}` : ''}`;
  const facts = { snapcraft: { revision: snapcraft.revision, version: snapcraft.version } };
  // An image in LXD is used only when it is the one this toolkit imported under that name (its
  // fingerprint recorded then): a pull request builds in the trusted image when it verifies,
  // else in its own; a release build never in a pull request's.
  const records = new ImageRecords(options.records);
  for (const candidate of options.trusted ? [alias] : [aliasIn(true), alias]) {
    const fingerprint = await lxd.imageFingerprint(candidate);
    if (!fingerprint) continue;
    if (records.matches(candidate, fingerprint)) {
      log(
        `build image ${candidate} is already in LXD (fingerprint ${fingerprint.slice(0, 12)} as recorded)`,
      );
      return { alias: candidate, source: 'present', cacheKey, saved: false, ...facts, base: null };
    }
    if (candidate !== alias) continue;
    // Only the name is taken back: the image it pointed to may be someone else's.
    log(`build image ${alias} in LXD is not the one this toolkit recorded; replacing it`);
    await lxd.run(['image', 'alias', 'delete', alias]);
  }

  const imageDir = join(options.workDir, 'build-image');
  rmSync(imageDir, { recursive: true, force: true });
  mkdirSync(imageDir, { recursive: true });
  const meta = join(imageDir, 'meta.tar.gz');
  const rootfs = join(imageDir, 'rootfs.tar.gz');
  if (options.cache && (await options.cache.restore([imageDir], cacheKey))) {
    if (existsSync(meta) && existsSync(rootfs)) {
      await importImage(lxd, meta, rootfs, alias, records);
      log(`build image ${alias} restored from the cache (${cacheKey})`);
      return { alias, source: 'restored', cacheKey, saved: false, ...facts, base: null };
    }
    log(`the cache entry ${cacheKey} is incomplete; building the image again`);
    mkdirSync(imageDir, { recursive: true });
  }

  const base = await buildRootfs({ ...options, snapcraft, rootfsTarball: rootfs });
  await writeMetadata(meta, imageDir, arch, series, snapcraft);
  await importImage(lxd, meta, rootfs, alias, records);
  log(`build image ${alias} built: snapcraft ${snapcraft.version} (r${snapcraft.revision})`);
  let saved = false;
  if (options.cache) {
    await options.cache.save([imageDir], cacheKey);
    saved = true;
  }
  return { alias, source: 'built', cacheKey, saved, ...facts, base };
}

async function importImage(
  lxd: Lxd,
  meta: string,
  rootfs: string,
  alias: string,
  records: ImageRecords,
): Promise<void> {
  await lxd.run(['image', 'import', meta, rootfs, '--alias', alias]);
  const fingerprint = await lxd.imageFingerprint(alias);
  if (!fingerprint)
    throw new ExternalError(`LXD lists no image ${alias} right after importing it.`);
  records.record(alias, fingerprint);
}

/** The fingerprints of the build images this toolkit imported, one file an alias. */
class ImageRecords {
  constructor(private readonly dir: string) {}

  matches(alias: string, fingerprint: string): boolean {
    const file = join(this.dir, `${alias}.json`);
    if (!existsSync(file)) return false;
    try {
      return (
        (JSON.parse(readFileSync(file, 'utf8')) as { fingerprint?: string }).fingerprint ===
        fingerprint
      );
    } catch {
      return false;
    }
  }

  record(alias: string, fingerprint: string): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, `${alias}.json`), `${JSON.stringify({ alias, fingerprint })}\n`);
  }
}

async function buildRootfs(
  options: BuildImageOptions & { snapcraft: StoreRevision; rootfsTarball: string },
): Promise<{ name: string; revision: number }> {
  const { arch, log = () => {} } = options;
  const root = join(options.workDir, 'rootfs');
  const asRoot = rootRunner(log);
  await asRoot(['rm', '-rf', root]);
  await asRoot(['mkdir', '-p', root]);
  try {
    if ('tarball' in options.rootfs) {
      await asRoot(['tar', '-C', root, '--numeric-owner', '-xpf', options.rootfs.tarball]);
    } else {
      await debootstrap(options.rootfs.debootstrap, arch, root, log);
    }
    const downloads = join(options.workDir, 'snaps');
    log(`downloading snapcraft ${options.snapcraft.version} for ${arch}`);
    const snapcraftFile = await downloadStoreRevision(options.snapcraft, downloads);
    // snapcraft's binaries are linked against its base snap's loader and libraries.
    const baseName = (await readSnapInfo(snapcraftFile)).base ?? 'core';
    const baseRevision = await resolveStoreRevision({
      name: baseName,
      channel: 'latest/stable',
      arch,
      api: options.storeApi,
    });
    log(`downloading ${baseName} r${baseRevision.revision} for ${arch}`);
    const baseFile = await downloadStoreRevision(baseRevision, downloads);
    for (const [name, file] of [
      ['snapcraft', snapcraftFile],
      [baseName, baseFile],
    ] as const) {
      await asRoot(['mkdir', '-p', join(root, 'snap', name)]);
      await asRoot([
        'unsquashfs',
        '-no-progress',
        '-quiet',
        '-d',
        join(root, 'snap', name, 'current'),
        file,
      ]);
    }
    const wrapper = join(options.workDir, 'snapcraft-wrapper');
    writeFileSync(wrapper, snapcraftWrapper(options.snapcraft, arch), { mode: 0o755 });
    await asRoot(['install', '-D', '-m', '0755', wrapper, join(root, 'usr/local/bin/snapcraft')]);
    await asRoot(['tar', '-C', root, '--numeric-owner', '-czf', options.rootfsTarball, '.']);
    await asRoot(['chmod', '0644', options.rootfsTarball]);
    return { name: baseName, revision: baseRevision.revision };
  } finally {
    await asRoot(['rm', '-rf', root]);
  }
}

/** The command that runs snapcraft out of its unpacked snap, as snapd would have set it up. */
export function snapcraftWrapper(snapcraft: StoreRevision, arch: string): string {
  for (const value of [snapcraft.version, String(snapcraft.revision), arch]) {
    if (!SAFE_VALUE.test(value))
      throw new ConfigurationError(`'${value}' cannot go into the snapcraft wrapper.`);
  }
  return [
    '#!/bin/sh',
    '# snapcraft from its unpacked snap, without snapd (openstack-snap-actions build image)',
    'export SNAP=/snap/snapcraft/current',
    'export SNAP_NAME=snapcraft',
    'export SNAP_INSTANCE_NAME=snapcraft',
    `export SNAP_VERSION=${snapcraft.version}`,
    `export SNAP_REVISION=${snapcraft.revision}`,
    `export SNAP_ARCH=${arch}`,
    // This container is the build environment: build here, never in a nested provider.
    'export SNAPCRAFT_BUILD_ENVIRONMENT=host',
    'export PATH="$SNAP/bin:$SNAP/usr/bin:$PATH"',
    'if [ -x "$SNAP/bin/python3" ]; then exec "$SNAP/bin/python3" "$SNAP/bin/snapcraft" "$@"; fi',
    'exec "$SNAP/bin/snapcraft" "$@"',
    '',
  ].join('\n');
}

async function writeMetadata(
  meta: string,
  dir: string,
  arch: string,
  series: string,
  snapcraft: StoreRevision,
): Promise<void> {
  const staging = join(dir, 'meta');
  mkdirSync(staging, { recursive: true });
  // LXD only launches images of the host's architecture (named as `uname -m` names it): a
  // foreign rootfs is labelled as the host's, and qemu-user (binfmt, F flag) runs its binaries.
  writeFileSync(
    join(staging, 'metadata.yaml'),
    [
      `architecture: ${machine()}`,
      `creation_date: ${Math.floor(Date.now() / 1000)}`,
      'properties:',
      `  description: Ubuntu ${series} ${arch} with snapcraft ${snapcraft.version} (r${snapcraft.revision})`,
      '  os: ubuntu',
      `  release: ${series}`,
      `  architecture: ${arch}`,
      '',
    ].join('\n'),
  );
  await execOk(['tar', '-C', staging, '-czf', meta, 'metadata.yaml']);
  rmSync(staging, { recursive: true, force: true });
}

async function debootstrap(
  spec: DebootstrapSpec,
  arch: string,
  root: string,
  log: (line: string) => void,
): Promise<void> {
  const asRoot = rootRunner(log);
  const foreign = arch !== hostArch();
  // Older debootstraps lack newer Ubuntu series; every Ubuntu script since gutsy is the same.
  const script = existsSync(`/usr/share/debootstrap/scripts/${spec.suite}`)
    ? []
    : ['/usr/share/debootstrap/scripts/gutsy'];
  log(`debootstrap ${spec.suite} ${arch} from ${spec.mirror}${foreign ? ' (emulated)' : ''}`);
  await asRoot([
    'debootstrap',
    ...(foreign ? ['--foreign', `--arch=${arch}`] : []),
    `--variant=${spec.variant}`,
    `--components=${spec.components.join(',')}`,
    ...(spec.include.length ? [`--include=${spec.include.join(',')}`] : []),
    spec.suite,
    root,
    spec.mirror,
    ...script,
  ]);
  if (foreign) await asRoot(['chroot', root, '/debootstrap/debootstrap', '--second-stage']);
  if (spec.sources.length) {
    const list = join(root, '..', 'sources.list');
    writeFileSync(list, `${spec.sources.join('\n')}\n`);
    await asRoot(['install', '-m', '0644', list, join(root, 'etc/apt/sources.list')]);
  }
  await asRoot(['find', join(root, 'var/cache/apt/archives'), '-name', '*.deb', '-delete']);
  await asRoot(['find', join(root, 'var/lib/apt/lists'), '-mindepth', '1', '-delete']);
}

/** Runs argv as root (the funnel's one rule), each line of its output to the log as it comes. */
function rootRunner(log: (line: string) => void): (argv: readonly string[]) => Promise<void> {
  return async (argv) => {
    await execOk(argv, { asRoot: true, onLine: (line) => line && log(`  ${line}`) });
  };
}
