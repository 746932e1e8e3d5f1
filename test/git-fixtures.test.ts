import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from './helpers/fixtures.js';

/** Runs a node script; resolves with its exit code. */
function runNode(source: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
      stdio: 'ignore',
      timeout: 20_000, // a hung script is killed and reports null
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

/** Command lines of running processes that mention `text`. */
function processesMentioning(text: string): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return '';
      }
    })
    .filter((cmdline) => cmdline.includes(text) && !cmdline.includes('--input-type=module'));
}

describe('startGitDaemon', () => {
  // npm run example ends its first phase with `await daemon.stop()`. With the daemon's handle
  // unref'd, the loop could drain before 'exit' arrived and Node exited 13 (unsettled top-level
  // await) in about one run in ten; CI caught it. Twenty processes make a regression show.
  test('a script whose last await is stopping the daemon runs to its end', async () => {
    const base = tempDir('git-daemon-');
    const lib = pathToFileURL(join(ROOT, 'scripts/lib/git-fixtures.mjs')).href;
    const source = [
      `import { startGitDaemon } from ${JSON.stringify(lib)};`,
      `const daemon = await startGitDaemon(${JSON.stringify(base)});`,
      'await daemon.stop();',
      'process.exitCode = 0;',
    ].join('\n');
    const codes = await Promise.all(Array.from({ length: 20 }, () => runNode(source)));
    expect(codes).toEqual(Array(20).fill(0));
    // Stopped as a process group: no git-daemon is left behind on the base directory.
    expect(processesMentioning(base)).toEqual([]);
  });
});
