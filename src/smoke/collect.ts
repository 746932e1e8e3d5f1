import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES } from './deploy.js';
import type { StepResult } from './engine.js';

/**
 * What a maintainer needs to see why a smoke test failed, as files for an artifact: the failing
 * step with its last lines, `snap services`, each service snap's logs and its config snippets.
 */
export function collectLogs(
  dir: string,
  failed: StepResult,
  options: { sudo: readonly string[]; fsRoot?: string },
): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const write = (file: string, text: string): void => {
    writeFileSync(join(dir, file), text);
    written.push(file);
  };
  write(
    'failed-step.txt',
    `${failed.name}\n${failed.error ?? ''}\n\n${failed.lastLines.join('\n')}\n`,
  );
  const capture = (file: string, argv: string[]): void => {
    const full = [...options.sudo, ...argv];
    const r = spawnSync(full[0]!, full.slice(1), {
      encoding: 'utf8',
      timeout: 60000,
      env: { ...process.env },
    });
    write(
      file,
      `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `cannot run ${argv[0]}: ${r.error.message}\n` : ''}`,
    );
  };
  capture('snap-services.txt', ['snap', 'services']);
  for (const service of SERVICES) {
    capture(`${service.snap}.log`, ['snap', 'logs', '-n', '500', service.snap]);
    const etc = join(options.fsRoot ?? '/', 'var/snap', service.snap, 'common/etc');
    capture(`${service.snap}-config.txt`, [
      'sh',
      '-c',
      'find "$1" -type f 2>/dev/null | sort | while read -r f; do echo "== $f"; cat "$f"; done',
      'sh',
      etc,
    ]);
  }
  return written;
}
