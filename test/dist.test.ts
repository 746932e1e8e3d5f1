import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/fixtures.js';

// Runners execute dist/ as committed; a source change without `npm run package` must fail here.
// This is the fast check (the digest of the inputs dist/ was built from). The full rebuild and
// comparison with git runs in .ci/run and in CI's check-dist job.
const check = (root: string) =>
  spawnSync(process.execPath, [join(root, 'scripts/package.mjs'), '--check'], {
    cwd: root,
    encoding: 'utf8',
  });

describe('dist/', () => {
  it('was built from the current source, one bundle per action', () => {
    const result = check(ROOT);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const bundles = readdirSync(join(ROOT, 'dist'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(bundles).toEqual([...readdirSync(join(ROOT, 'actions')), 'snap', 'check'].sort());
  });

  it('is found stale when any source file changes, however deep', () => {
    const copy = tempDir('osa-dist-check-');
    for (const path of [
      'src',
      'scripts',
      'actions',
      'dist',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
    ])
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    expect(check(copy).status).toBe(0);
    appendFileSync(join(copy, 'src/release/data/series-status.ts'), '\n');
    const stale = check(copy);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/dist\/ was built from other source .*run 'npm run package'/);
  });
});
