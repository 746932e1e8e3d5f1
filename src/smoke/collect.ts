import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepResult } from './engine.js';
import { exec } from '../platform/index.js';
import { SERVICES } from './services.js';

/**
 * What a maintainer needs to see why a smoke test failed, as files for an artifact: the failing
 * step with its last lines, `snap services`, each service snap's logs and its config snippets.
 */
export async function collectLogs(
  dir: string,
  failed: StepResult,
  options: { asRoot: boolean; fsRoot?: string },
): Promise<string[]> {
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
  const capture = async (file: string, argv: string[]): Promise<void> => {
    const r = await exec(argv, { asRoot: options.asRoot, timeoutMs: 60000 }).catch(
      (error: unknown) => ({ stdout: '', stderr: `cannot run ${argv[0]}: ${String(error)}\n` }),
    );
    write(file, `${r.stdout}${r.stderr}`);
  };
  await capture('snap-services.txt', ['snap', 'services']);
  for (const service of SERVICES) {
    await capture(`${service.snap}.log`, ['snap', 'logs', '-n', '500', service.snap]);
    const etc = join(options.fsRoot ?? '/', 'var/snap', service.snap, 'common/etc');
    await capture(`${service.snap}-config.txt`, [
      'sh',
      '-c',
      'find "$1" -type f 2>/dev/null | sort | while read -r f; do echo "== $f"; cat "$f"; done',
      'sh',
      etc,
    ]);
  }
  return written;
}
