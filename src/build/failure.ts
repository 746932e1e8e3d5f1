import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, ExternalError } from '../platform/index.js';

/** A build that failed, with where it failed and the evidence saved. */
export class BuildError extends ExternalError {
  override readonly name = 'BuildError';
  constructor(
    message: string,
    readonly logsDir: string,
    readonly part: string | null,
    readonly step: string | null,
  ) {
    super(message, logsDir ? { evidence: logsDir } : {});
  }
}

/** The part and step snapcraft names when a build fails. */
export function failingPart(output: string): { part: string | null; step: string | null } {
  const patterns: [RegExp, (m: RegExpExecArray) => { part: string; step: string | null }][] = [
    [
      /Failed to run the (build|pull|stage|prime|override-\w+) script for part '([^']+)'/,
      (m) => ({ part: m[2]!, step: m[1]! }),
    ],
    [
      /Failed to (pull|build|stage|prime) source for part '([^']+)'/i,
      (m) => ({ part: m[2]!, step: m[1]! }),
    ],
    [/part '([^']+)'[^\n]*(?:failed|error)/i, (m) => ({ part: m[1]!, step: null })],
  ];
  for (const [re, pick] of patterns) {
    const match = re.exec(output);
    if (match) return pick(match);
  }
  return { part: null, step: null };
}

/** A build's whole output, kept as build-output.log in `logsDir`. */
export function saveOutput(logsDir: string, output: readonly string[]): void {
  mkdirSync(logsDir, { recursive: true });
  writeFileSync(join(logsDir, 'build-output.log'), `${output.join('\n')}\n`);
}

/**
 * The BuildError for a build that exited non-zero, native or in a container: saves the whole
 * output as build-output.log in `logsDir` and names the failing part and step when snapcraft did.
 */
export function buildFailure(
  arch: string,
  output: readonly string[],
  code: number,
  logsDir: string,
  what?: string,
): BuildError {
  saveOutput(logsDir, output);
  return failureOf(arch, output, code, logsDir, what);
}

/** The BuildError for `output` (saved elsewhere): the failing part and step, the last lines. */
export function failureOf(
  arch: string,
  output: readonly string[],
  code: number,
  logsDir: string,
  what?: string,
): BuildError {
  const { part, step } = failingPart(output.join('\n'));
  const where = part
    ? `part '${part}'${step ? ` failed in its ${step} step` : ' failed'}`
    : `exit code ${code}`;
  return new BuildError(
    `The ${arch} build ${what ?? `failed: ${where}`}. Last lines:\n${output.slice(-15).join('\n')}\nLogs: ${logsDir}`,
    logsDir,
    part,
    step,
  );
}

/**
 * snapcraft writes a log per run under $XDG_STATE_HOME/snapcraft/log (~/.local/state by default);
 * keep them for the artifact.
 */
export function copySnapcraftLogs(
  target: string,
  stateHome = process.env.XDG_STATE_HOME ?? join(homedir(), '.local/state'),
  /** Replaces secrets in what is copied (the logs become an artifact, which nothing masks). */
  redact?: (text: string) => string,
): void {
  const source = join(stateHome, 'snapcraft/log');
  if (!existsSync(source)) return;
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(source)) {
    try {
      if (redact)
        writeFileSync(join(target, file), redact(readFileSync(join(source, file), 'utf8')));
      else copyFileSync(join(source, file), join(target, file));
    } catch (error) {
      writeFileSync(join(target, `${file}.unreadable`), errorMessage(error));
    }
  }
}
