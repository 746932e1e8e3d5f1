import * as core from '@actions/core';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorMessage, isConfigurationError } from '../errors.js';

/**
 * Runs an action's main function: a user's mistake is reported as one error line that says what
 * to change; anything else is a bug, reported with its stack in the debug log.
 */
export async function runAction(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (isConfigurationError(error)) {
      core.setFailed(error.message);
    } else {
      core.debug(error instanceof Error && error.stack ? error.stack : String(error));
      core.setFailed(`${name}: ${errorMessage(error)}`);
    }
  }
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

/** RUNNER_TEMP on a runner; the OS temp dir elsewhere. */
export function runnerTemp(): string {
  return process.env.RUNNER_TEMP || process.env.TMPDIR || '/tmp';
}

/**
 * A strict boolean input (true/True/TRUE/false/...): anything else is refused by core. An unset
 * input takes the action.yml default, so running a bundle with only some INPUT_* set still works.
 */
export function getBooleanInput(name: string, fallback: boolean): boolean {
  return core.getInput(name) === '' ? fallback : core.getBooleanInput(name);
}

/** True when this module is the script node was started with (the bundle), not an import. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
