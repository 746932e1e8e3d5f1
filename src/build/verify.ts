import { chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BuildError } from './failure.js';
import { elfArch } from './elf.js';
import { exec, lastLines } from '../platform/index.js';
import { readSnapInfo, type SnapInfo } from '../snapcraft/index.js';

/** The snap says it is for `arch`, and every ELF binary in it is. */
export async function verifyArch(file: string, arch: string): Promise<SnapInfo> {
  const info = await readSnapInfo(file);
  if (info.arch !== arch && info.arch !== 'all') {
    throw new BuildError(
      `${basename(file)} is built for ${info.arch}, not ${arch}.`,
      '',
      null,
      null,
    );
  }
  const dir = `${file}.contents`;
  const unpack = await exec(['unsquashfs', '-no-progress', '-quiet', '-d', dir, file], {
    installHint: 'install squashfs-tools',
  });
  if (unpack.code !== 0)
    throw new BuildError(
      `Cannot unpack ${basename(file)}: ${lastLines(unpack.stderr)}`,
      '',
      null,
      null,
    );
  const wrong: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) {
        const found = elfArch(path);
        if (found && found !== arch) wrong.push(`${path.slice(dir.length + 1)} (${found})`);
      }
    }
  };
  chmodSync(dir, 0o755);
  walk(dir);
  rmSync(dir, { recursive: true, force: true });
  if (wrong.length > 0) {
    throw new BuildError(
      `${basename(file)} says ${arch} but carries binaries of another architecture: ${wrong.slice(0, 5).join(', ')}.`,
      '',
      null,
      null,
    );
  }
  return info;
}
