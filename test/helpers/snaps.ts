import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, ROOT, tempDir } from './fixtures.js';

/** A real .snap (squashfs) with meta/snap.yaml, built by mksquashfs as snapcraft's pack does. */
export function makeSnap(
  outDir: string,
  snap: { name: string; version: string; arch: string; grade?: string; build?: string },
): string {
  const prime = tempDir('osa-prime-');
  mkdirSync(join(prime, 'meta'), { recursive: true });
  mkdirSync(join(prime, 'bin'), { recursive: true });
  writeFileSync(
    join(prime, 'meta/snap.yaml'),
    `name: ${snap.name}\nversion: '${snap.version}'\nsummary: test\ndescription: test\narchitectures:\n  - ${snap.arch}\nbase: core24\ngrade: ${snap.grade ?? 'devel'}\nconfinement: strict\n`,
  );
  writeFileSync(
    join(prime, 'bin/service'),
    `#!/bin/sh\necho ${snap.name} ${snap.arch} ${snap.build ?? ''}\n`,
  );
  const file = join(outDir, `${snap.name}_${snap.version}_${snap.arch}.snap`);
  mkdirSync(outDir, { recursive: true });
  execFileSync('mksquashfs', [
    prime,
    file,
    '-noappend',
    '-comp',
    'xz',
    '-all-root',
    '-quiet',
    '-no-progress',
  ]);
  return file;
}

/** One build of a snap for several architectures. */
export function makeBuild(
  name: string,
  version: string,
  arches: string[],
  extra: { grade?: string; build?: string } = {},
) {
  const dir = tempDir('osa-build-');
  return arches.map((arch) => makeSnap(dir, { name, version, arch, ...extra }));
}

/**
 * STAND-INS for the snapcraft snap and its base snap, as the store would serve them for `arch`
 * (the real ones cannot be downloaded here). Laid out like the real snaps: bin/snapcraft run by
 * the snap's bin/python3, linked against /snap/<base>/current. The stand-in checks that it was
 * started the way the build image's wrapper starts the real one, then packs with
 * test/standins/snapcraft-pack.sh.
 */
export function makeStandinSnapcraftSnaps(
  outDir: string,
  options: { arch: string; version: string; base: string },
): { snapcraft: string; base: string } {
  const prime = tempDir('osa-prime-snapcraft-');
  mkdirSync(join(prime, 'meta'), { recursive: true });
  mkdirSync(join(prime, 'bin'), { recursive: true });
  mkdirSync(join(prime, 'share'), { recursive: true });
  writeFileSync(
    join(prime, 'meta/snap.yaml'),
    `name: snapcraft\nversion: '${options.version}'\nsummary: stand-in\ndescription: stand-in\narchitectures:\n  - ${options.arch}\nbase: ${options.base}\nconfinement: classic\ngrade: stable\n`,
  );
  writeFileSync(
    join(prime, 'bin/python3'),
    '#!/bin/sh\n# STAND-IN for the snap\'s python3: runs the "python" script with sh\nSTANDIN_PYTHON=1 exec /bin/sh "$@"\n',
    { mode: 0o755 },
  );
  writeFileSync(
    join(prime, 'bin/snapcraft'),
    [
      '#!/bin/sh',
      '# STAND-IN for snapcraft, unpacked from its snap into a build image',
      'set -eu',
      'fail() { echo "stand-in snapcraft: $*" >&2; exit 2; }',
      '[ "${STANDIN_PYTHON:-}" = 1 ] || fail "not started by the snap\'s python3"',
      '[ "$SNAP" = /snap/snapcraft/current ] || fail "SNAP is $SNAP"',
      `[ -f /snap/${options.base}/current/lib/loader-of-${options.base} ] || fail "base ${options.base} is not unpacked"`,
      '[ "$SNAPCRAFT_BUILD_ENVIRONMENT" = host ] || fail "not building on the host"',
      'case "${1:-}" in',
      '  --version) echo "snapcraft $SNAP_VERSION"; exit 0 ;;',
      '  pack) exec sh "$SNAP/share/snapcraft-pack.sh" ;;',
      '  *) fail "only --version and pack" ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  copyFileSync(
    join(ROOT, 'test/standins/snapcraft-pack.sh'),
    join(prime, 'share/snapcraft-pack.sh'),
  );
  const basePrime = tempDir('osa-prime-base-');
  mkdirSync(join(basePrime, 'meta'), { recursive: true });
  mkdirSync(join(basePrime, 'lib'), { recursive: true });
  writeFileSync(
    join(basePrime, 'meta/snap.yaml'),
    `name: ${options.base}\nversion: '20261101'\nsummary: stand-in\ndescription: stand-in\narchitectures:\n  - ${options.arch}\ntype: base\ngrade: stable\nconfinement: strict\n`,
  );
  writeFileSync(join(basePrime, `lib/loader-of-${options.base}`), '');
  mkdirSync(outDir, { recursive: true });
  const pack = (dir: string, file: string): string => {
    execFileSync('mksquashfs', [dir, file, '-noappend', '-all-root', '-quiet', '-no-progress']);
    return file;
  };
  return {
    snapcraft: pack(prime, join(outDir, `snapcraft_${options.arch}.snap`)),
    base: pack(basePrime, join(outDir, `${options.base}_${options.arch}.snap`)),
  };
}

/**
 * A core24 OpenStack snap project: snap-openstack's stable/2025.1 snapcraft.yaml, with what its
 * python part reads that the fixture does not carry (sunbeam-python/requirements.txt: the stand-in
 * snapcraft, like pip, opens it) and the in-container stand-in packer beside it.
 */
export function snapOpenstackProject(prefix: string): string {
  const dir = tempDir(prefix);
  cpSync(
    fixture('canonical/snap-openstack/stable/2025.1/snap/snapcraft.yaml'),
    join(dir, 'snapcraft.yaml'),
  );
  mkdirSync(join(dir, 'sunbeam-python'));
  writeFileSync(join(dir, 'sunbeam-python/requirements.txt'), 'pyyaml\n');
  copyFileSync(join(ROOT, 'test/standins/snapcraft-pack.sh'), join(dir, 'snapcraft-pack.sh'));
  return dir;
}
