import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileCache } from './cache.js';
import type { PrefixCache } from './cache.js';

/**
 * A FileCache in a local directory, for the CLI, the example and tests: the same contract as
 * @actions/cache (restore by exact key, save once per key) without a cache service.
 */
export class DirectoryCache implements FileCache {
  constructor(private readonly root: string) {}

  async restore(paths: string[], key: string): Promise<boolean> {
    const entry = join(this.root, safe(key));
    if (!existsSync(entry)) return false;
    paths.forEach((path, index) => {
      rmSync(path, { recursive: true, force: true });
      cpSync(join(entry, String(index)), path, { recursive: true });
    });
    return true;
  }

  /** As a PrefixCache: an exact hit, else the newest entry under one of the prefixes. */
  prefixCache(): PrefixCache {
    return {
      restore: async (paths, key, prefixes) => {
        if (await this.restore(paths, key)) return key;
        const candidates = existsSync(this.root)
          ? readdirSync(this.root)
              .filter((name) => prefixes.some((prefix) => name.startsWith(safe(prefix))))
              .map((name) => ({ name, at: statSync(join(this.root, name)).mtimeMs }))
              .sort((a, b) => b.at - a.at)
          : [];
        const newest = candidates[0]?.name;
        if (!newest) return undefined;
        await this.restore(paths, newest);
        return newest;
      },
      save: (paths, key) => this.save(paths, key),
    };
  }

  async save(paths: string[], key: string): Promise<void> {
    const entry = join(this.root, safe(key));
    if (existsSync(entry)) return;
    mkdirSync(entry, { recursive: true });
    paths.forEach((path, index) => cpSync(path, join(entry, String(index)), { recursive: true }));
  }
}

function safe(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '_');
}
