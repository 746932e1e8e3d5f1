import {
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import type { MirrorStore } from './mirror.js';

/**
 * Bare copies kept in a local directory (self-hosted runners, the CLI, tests). Git never rewrites
 * a file in place (it writes a new one and renames it over), so copies share files by hard link,
 * as `git clone --local` does: restoring and saving a large repository costs only its new files.
 */
export class DirectoryStore implements MirrorStore {
  constructor(private readonly root: string) {}

  async restore(slug: string, dir: string): Promise<boolean> {
    const saved = join(this.root, `${slug}.git`);
    if (!existsSync(saved)) return false;
    rmSync(dir, { recursive: true, force: true });
    linkTree(saved, dir);
    return true;
  }

  async save(slug: string, dir: string): Promise<void> {
    const saved = join(this.root, `${slug}.git`);
    mkdirSync(this.root, { recursive: true });
    // Build beside, then swap by rename: a save that dies halfway never leaves a broken copy.
    const staging = `${saved}.saving-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    linkTree(dir, staging);
    const old = `${saved}.old-${process.pid}`;
    if (existsSync(saved)) renameSync(saved, old);
    renameSync(staging, saved);
    rmSync(old, { recursive: true, force: true });
  }
}

/** Recreates `from` at `to` with hard links (copies where links cannot cross filesystems). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    const target = join(to, entry);
    if (statSync(source).isDirectory()) linkTree(source, target);
    else {
      try {
        linkSync(source, target);
      } catch {
        cpSync(source, target);
      }
    }
  }
}
