import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './fixtures.js';

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
