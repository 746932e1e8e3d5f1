import * as core from '@actions/core';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigurationError,
  confinePath,
  errorKind,
  errorMessage,
  ExternalError,
  isRetryable,
} from '../platform/index.js';

/**
 * Runs an action's main function and reports what it throws by kind (platform/errors.ts): a
 * user's mistake as the one line that says what to change; an external failure as what failed,
 * whether a re-run may help and where the evidence is; anything else as a bug of ours. Stacks go
 * to the debug log.
 */
export async function runAction(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    core.debug(error instanceof Error && error.stack ? error.stack : String(error));
    const message = errorMessage(error);
    switch (errorKind(error)) {
      case 'configuration':
        core.setFailed(message);
        break;
      case 'external': {
        const evidence = error instanceof ExternalError ? error.evidence : null;
        core.setFailed(
          `${name}: ${message}` +
            (evidence && !message.includes(evidence) ? ` (evidence: ${evidence})` : '') +
            (isRetryable(error) ? ' (this may be transient: re-running the job may succeed)' : ''),
        );
        break;
      }
      case 'bug':
        core.setFailed(
          `${name}: ${message}. This is a bug in openstack-snap-actions: please report it with ` +
            'the debug log (re-run with debug logging enabled).',
        );
    }
  }
}

/** An input the action cannot do without: missing, it is the user's to give (`what` says what). */
export function getRequiredInput(name: string, what: string): string {
  const value = core.getInput(name);
  if (!value) throw new ConfigurationError(`Input '${name}' is required: give ${what}.`);
  return value;
}

/** A multi-value input: one item per line or separated by commas/spaces; `#` starts a comment. */
export function getListInput(name: string): string[] {
  return core
    .getInput(name)
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter(Boolean);
}

/**
 * A path input (or `fallback` when unset), resolved against the workspace. On a runner
 * (GITHUB_WORKSPACE set) it must stay inside the workspace or RUNNER_TEMP (platform/paths.ts);
 * `absoluteOutside` is for cache-dir alone. Outside Actions the paths are the user's own.
 */
export function getPathInput(
  name: string,
  fallback: string,
  options?: { readonly absoluteOutside?: boolean },
): string;
export function getPathInput(
  name: string,
  fallback?: string,
  options?: { readonly absoluteOutside?: boolean },
): string | undefined;
export function getPathInput(
  name: string,
  fallback?: string,
  options: { readonly absoluteOutside?: boolean } = {},
): string | undefined {
  const value = core.getInput(name) || fallback;
  return value ? confinedPath(value, name, options) : undefined;
}

/** One path of input `name`, confined as getPathInput's are. */
export function confinedPath(
  value: string,
  name: string,
  options: { readonly absoluteOutside?: boolean } = {},
): string {
  const workspace = process.env.GITHUB_WORKSPACE;
  if (!workspace) return resolve(value);
  return confinePath(value, `'${name}'`, { workspace, temp: process.env.RUNNER_TEMP }, options);
}

/** RUNNER_TEMP on a runner; the OS temp dir elsewhere. */
export function runnerTemp(): string {
  return process.env.RUNNER_TEMP || process.env.TMPDIR || '/tmp';
}

/**
 * A strict boolean input (true/True/TRUE/false/...): anything else is refused by core. An unset
 * input takes the action.yml default, so running a bundle with only some INPUT_* set still works.
 */
export function getBooleanInput(name: string, fallback: boolean): boolean {
  const value = core.getInput(name);
  if (value === '') return fallback;
  try {
    return core.getBooleanInput(name);
  } catch {
    throw new ConfigurationError(`Input '${name}' must be true or false, not '${value}'.`);
  }
}

/**
 * Logs text that came from elsewhere (a git server's ERR line or side-band message, an API's
 * error) so that none of it can start a workflow command: the runner takes any line whose text
 * begins with `::` as one (`::add-mask::`, `::stop-commands::`), so every line, however the text
 * breaks it (\n, \r, U+2028 ...), goes out behind `prefix`, which must not be blank.
 */
export function infoLines(prefix: string, text: string): void {
  for (const line of text.split(/\r\n|[\r\n\u2028\u2029\u0085\v\f]/)) core.info(`${prefix}${line}`);
}

/** An input that takes one of a few words; unset means the action.yml default, `fallback`. */
export function getChoiceInput<T extends string>(
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = core.getInput(name);
  if (value === '') return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigurationError(
    `Input '${name}' must be one of ${choices.join(', ')}, not '${value}'.`,
  );
}

/**
 * Runs the action when its module is the process's entry (`node dist/<name>/index.js`), then
 * exits at once with the code the run set: an HTTP agent's idle keep-alive socket (the cache
 * SDK's, Octokit's) must not hold the job open for minutes after the work is done, which is why
 * actions/cache exits explicitly too. Imported (tests, local-action), it does nothing.
 */
export async function runAsEntry(moduleUrl: string, run: () => Promise<void>): Promise<void> {
  if (!isEntryPoint(moduleUrl)) return;
  await run();
  // What is still queued for the log (a pipe the runner reads at its own pace) goes out first.
  await Promise.all(
    [process.stdout, process.stderr].map((s) => new Promise<void>((r) => s.write('', () => r()))),
  );
  process.exit();
}

function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * Writes the job summary built in core.summary. Where there is no summary file (a local run) it is
 * dropped; a summary that cannot be written is a warning, never the reason a job fails.
 */
export async function flushSummary(): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.summary.emptyBuffer();
    return;
  }
  try {
    await core.summary.write();
  } catch (error) {
    core.warning(`Could not write the job summary: ${String(error)}`);
  }
}

export { escapeHtml } from '../platform/index.js';
