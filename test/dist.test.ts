import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/fixtures.js';

// Runners execute dist/ as committed; a source change without `npm run package` must fail here.
describe('dist/', () => {
  it('is what `npm run package` builds from the current source', () => {
    const out = tempDir('osa-dist-');
    execFileSync(process.execPath, [join(ROOT, 'scripts/package.mjs'), '--out', out], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    const actions = [...readdirSync(join(ROOT, 'actions')), 'snap'].sort();
    expect(readdirSync(out).sort()).toEqual(actions);
    for (const name of actions) {
      for (const file of ['index.js', 'package.json']) {
        const fresh = readFileSync(join(out, name, file), 'utf8');
        const committed = readFileSync(join(ROOT, 'dist', name, file), 'utf8');
        // Compare without a giant diff on failure.
        expect({ file: `dist/${name}/${file}`, same: fresh === committed }).toEqual({
          file: `dist/${name}/${file}`,
          same: true,
        });
      }
    }
  }, 300000);
});
