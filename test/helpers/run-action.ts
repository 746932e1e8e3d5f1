import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { ROOT, tempDir } from './fixtures.js';

export interface ActionRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

/** Parses a GITHUB_OUTPUT file (`name<<delimiter` blocks). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!head) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== head[2]; i++) value.push(lines[i]!);
    outputs[head[1]!] = value.join('\n');
  }
  return outputs;
}

/**
 * Runs a committed bundle the way a runner does: `node dist/<name>/index.js` with INPUT_* variables,
 * GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, in a clean environment.
 */
export async function runBundle(
  name: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  options: {
    /** Called once the process runs (to signal it as a runner's cancel would). */
    readonly started?: (child: ChildProcess) => void;
  } = {},
): Promise<ActionRun> {
  const dir = tempDir(`osa-run-${name}-`);
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const inputEnv = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
  );
  // Asynchronous on purpose: servers the bundle talks to may live in this very process.
  const child = spawn(process.execPath, [join(ROOT, 'dist', name, 'index.js')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: join(dir, 'tmp'),
      ...inputEnv,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.started?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90000);
  // Killed by a signal: 128 + its number, as a shell reports it.
  const status = await new Promise<number>((resolve) =>
    child.on('close', (code, signal) =>
      resolve(code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : -1)),
    ),
  );
  clearTimeout(timer);
  return {
    status,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
  };
}

/**
 * Everything a run shows a user: stdout (less the ::add-mask:: commands, which is how secrets are
 * registered with the runner), stderr, the outputs and the job summary. Leak tests search it.
 */
export function visibleOutput(run: ActionRun): string[] {
  const stdout = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  return [stdout, run.stderr, JSON.stringify(run.outputs), run.summary];
}
