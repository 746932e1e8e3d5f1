import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The shared fixtures (real OpenStack files): beside the clone, or where OSA_FIXTURES says. */
export const FIXTURES = resolve(process.env.OSA_FIXTURES ?? join(ROOT, '..', 'shared', 'fixtures'));
if (!existsSync(FIXTURES)) {
  throw new Error(
    `The shared fixtures are not at ${FIXTURES}; set OSA_FIXTURES to their directory.`,
  );
}

export const RELEASES = join(FIXTURES, 'openstack/releases/master');
export const REQUIREMENTS = join(FIXTURES, 'openstack/requirements');

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

/** Every file under `dir` named `name`, as paths relative to FIXTURES. */
export function findFiles(name: string, dir = FIXTURES): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry === name) found.push(relative(FIXTURES, path));
    }
  };
  walk(dir);
  return found.sort();
}

export function tempDir(prefix = 'osa-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
