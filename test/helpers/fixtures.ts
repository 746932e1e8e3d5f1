import { cpSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Real OpenStack files (origins in MANIFEST.tsv): the copy vendored in test/fixtures, kept equal to
 * the project's shared fixtures by scripts/sync-fixtures.sh (test/fixtures.test.ts checks).
 */
export const FIXTURES = resolve(process.env.OSA_FIXTURES ?? join(ROOT, 'test', 'fixtures'));
if (!existsSync(join(FIXTURES, 'MANIFEST.tsv'))) {
  throw new Error(`No fixtures at ${FIXTURES}; run scripts/sync-fixtures.sh or set OSA_FIXTURES.`);
}

/** The shared fixtures beside the clone, where the project's machines have them. */
export const SHARED_FIXTURES = join(ROOT, '..', 'shared', 'fixtures');

export const RELEASES = join(FIXTURES, 'openstack/releases/master');
export const REQUIREMENTS = join(FIXTURES, 'openstack/requirements');

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

/** Every file under `dir`, as sorted paths relative to it. */
export function listFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

/** Every fixture file named `name`, as paths relative to FIXTURES. */
export function findFiles(name: string): string[] {
  return listFiles(FIXTURES).filter((file) => basename(file) === name);
}

/** A fresh temp dir under the test run's root (removed when the run ends), else the OS's. */
export function tempDir(prefix = 'osa-'): string {
  return mkdtempSync(join(process.env.OSA_TEST_ROOT ?? tmpdir(), prefix));
}

/** A writable copy of a fixture directory (a snap project), in a fresh temp dir. */
export function fixtureCopy(path: string): string {
  const dir = tempDir('osa-snap-');
  cpSync(fixture(path), dir, { recursive: true });
  return dir;
}
