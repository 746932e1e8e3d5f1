import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: ROOT });

/** The rule ids (each once) eslint reports for `code` as if it were the file at `path`. */
async function violations(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return [...new Set(result!.messages.map((m) => m.ruleId ?? m.message))];
}

describe('the house rules (README "Layout") hold because eslint enforces them', () => {
  it('a domain is used from outside only through its index.ts', async () => {
    const inside = "import { exec } from '../platform/exec.js';\nexport const run = exec;\n";
    expect(await violations('src/build/new.ts', inside)).toEqual(['no-restricted-imports']);
    expect(await violations('src/actions/new.ts', inside)).toEqual(['no-restricted-imports']);
    expect(
      await violations(
        'src/release/data/new.ts',
        "import { Git } from '../../platform/git.js';\nexport const G = Git;\n",
      ),
    ).toEqual(['no-restricted-imports']);
    const api = "import { exec } from '../platform/index.js';\nexport const run = exec;\n";
    expect(await violations('src/build/new.ts', api)).toEqual([]);
    // Within a domain, files import each other directly.
    expect(
      await violations(
        'src/build/new.ts',
        "import { buildFailure } from './failure.js';\nexport const f = buildFailure;\n",
      ),
    ).toEqual([]);
  });

  it('only the entries talk to the runner, and the library never imports an entry', async () => {
    const core = "import * as core from '@actions/core';\nexport const info = core.info;\n";
    expect(await violations('src/mirror/new.ts', core)).toEqual(['no-restricted-imports']);
    expect(await violations('src/actions/new.ts', core)).toEqual([]);
    expect(
      await violations(
        'src/store/new.ts',
        "import { runAction } from '../actions/runner.js';\nexport const r = runAction;\n",
      ),
    ).toEqual(['no-restricted-imports']);
  });

  it('only the funnel starts programs', async () => {
    const spawn = "import { spawn } from 'node:child_process';\nexport const s = spawn;\n";
    expect(await violations('src/smoke/new.ts', spawn)).toEqual(['no-restricted-imports']);
    expect(await violations('src/actions/new.ts', spawn)).toEqual(['no-restricted-imports']);
    expect(await violations('src/platform/exec.ts', spawn)).toEqual([]);
    // Nor past the import rule: import() and require().
    expect(
      await violations(
        'src/smoke/new.ts',
        "export const c = await import('node:child_process');\n",
      ),
    ).toEqual(['no-restricted-syntax']);
    expect(
      await violations(
        'src/smoke/new.ts',
        "import { createRequire } from 'node:module';\nexport const c = createRequire(import.meta.url)('child_process');\n",
      ),
    ).toEqual(['no-restricted-syntax']);
  });

  it('every throw says its kind', async () => {
    expect(await violations('src/github/new.ts', "throw new Error('no');\n")).toEqual([
      'no-restricted-syntax',
    ]);
    expect(await violations('src/github/new.ts', "throw Error('no');\n")).toEqual([
      'no-restricted-syntax',
    ]);
    expect(
      await violations(
        'src/github/new.ts',
        "class A extends RangeError {}\nexport function f(x: boolean): never {\n  throw new (x ? A : Error)('no');\n}\n",
      ),
    ).toEqual(['no-restricted-syntax']);
    expect(
      await violations(
        'src/github/new.ts',
        "import { ConfigurationError } from '../platform/index.js';\nthrow new ConfigurationError('no');\n",
      ),
    ).toEqual([]);
  });

  it('every folder of src/ but the entries is a domain with an index.ts', () => {
    const folders = readdirSync(join(ROOT, 'src')).filter((f) =>
      statSync(join(ROOT, 'src', f)).isDirectory(),
    );
    expect(folders.sort()).toEqual(
      [
        'actions',
        'build',
        'check',
        'constraints',
        'fleet',
        'github',
        'mirror',
        'platform',
        'release',
        'smoke',
        'snapcraft',
        'store',
      ].sort(),
    );
    for (const folder of folders.filter((f) => f !== 'actions'))
      expect(statSync(join(ROOT, 'src', folder, 'index.ts')).isFile()).toBe(true);
    expect(readdirSync(join(ROOT, 'src')).filter((f) => f.endsWith('.ts'))).toEqual([]);
  });
});
