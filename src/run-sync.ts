import { spawnSync } from 'node:child_process';
import { ToolError } from './errors.js';
import { meaningfulLine } from './git.js';

/**
 * Runs argv to completion (no shell) and returns its stdout; a missing program or a non-zero exit
 * is a ToolError with the program's own reason.
 */
export function runSync(argv: readonly string[]): string {
  const result = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new ToolError(argv[0]!, 127, result.error.message);
  if (result.status !== 0)
    throw new ToolError(
      argv.slice(0, 2).join(' '),
      result.status ?? 1,
      meaningfulLine(result.stderr),
    );
  return result.stdout;
}
