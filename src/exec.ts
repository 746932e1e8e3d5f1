import { spawn } from 'node:child_process';
import { ToolError } from './errors.js';

/** How to run one program. Argv only: there is no shell to quote for or inject into. */
export interface ExecOptions {
  readonly cwd?: string;
  /** Added to this process's environment (secrets travel here, never in argv). */
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string | Buffer;
  /** Kill the program (and say so) after this long. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Each complete line as it comes, stdout and stderr alike, with secrets redacted. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Values that must never appear in a line, an error or a result; replaced by `***`. */
  readonly secrets?: readonly string[];
  /** Run as root: as is when this process is root, else through `sudo -n` (never prompts). */
  readonly asRoot?: boolean;
  /** What to install when the program is missing, for the error (`apt-get install squashfs-tools`). */
  readonly installHint?: string;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The program is not installed (or not on PATH). */
export class MissingProgramError extends ToolError {
  constructor(program: string, hint?: string) {
    super(program, 127, `${program} is not installed${hint ? `: ${hint}` : ''}`);
  }
}

/** The argv that runs `argv` as root under the one rule: root already, or `sudo -n`. */
export function asRoot(
  argv: readonly string[],
  uid = process.getuid?.() ?? 0,
  env: Readonly<Record<string, string>> = {},
): string[] {
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  if (uid === 0) return pairs.length ? ['env', ...pairs, ...argv] : [...argv];
  // sudo resets the environment; `env` carries what the root command needs, explicitly.
  return ['sudo', '-n', ...(pairs.length ? ['env', ...pairs] : []), ...argv];
}

/** Splits a byte stream into lines however the reads fall; `end()` gives the unterminated rest. */
export class LineSplitter {
  private rest = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop()!;
    for (const line of lines) this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  end(): void {
    const text = this.rest + this.decoder.decode();
    this.rest = '';
    if (text) this.emit(text.endsWith('\r') ? text.slice(0, -1) : text);
  }
}

function redactor(secrets: readonly string[] = []): (text: string) => string {
  const values = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => values.reduce((t, s) => t.split(s).join('***'), text);
}

/**
 * The one way the toolkit starts a program: argv only, line-buffered output streamed to
 * `onLine` as it comes, cwd/env/stdin/timeout/abort, secrets redacted from every line and error.
 * Resolves with the exit code whatever it is; a program that cannot start is a
 * MissingProgramError (or the spawn error).
 */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const full = options.asRoot ? asRoot(argv) : [...argv];
  const redact = redactor(options.secrets);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(full[0]!, full.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const out: string[] = [];
    const err: string[] = [];
    const splitter = (stream: 'stdout' | 'stderr', into: string[]) =>
      new LineSplitter((line) => {
        const clean = redact(line);
        into.push(clean);
        options.onLine?.(clean, stream);
      });
    const stdout = splitter('stdout', out);
    const stderr = splitter('stderr', err);
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') reject(new MissingProgramError(full[0]!, options.installHint));
      else reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      stdout.end();
      stderr.end();
      if (timedOut) err.push(`timed out after ${Math.round(options.timeoutMs! / 1000)} s`);
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: out.join('\n'),
        stderr: err.join('\n'),
      });
    });
    if (child.stdin) {
      // A program may exit before reading all of its input; its exit code tells what happened.
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin);
    }
  });
}

/**
 * Runs a program that must succeed: a non-zero exit is a ToolError naming the command (argv[0]
 * and its subcommand) with its meaningful last lines.
 */
export async function execOk(
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const result = await exec(argv, options);
  if (result.code !== 0) {
    throw new ToolError(
      argv.slice(0, 2).join(' '),
      result.code,
      lastLines(result.stderr || result.stdout),
    );
  }
  return result;
}

/** The lines that say why a program failed: its last error line, else its last lines. */
export function lastLines(text: string, count = 3): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const reason = [...lines].reverse().find((l) => /^(fatal|error|E):/i.test(l));
  return reason ?? lines.slice(-count).join(' / ');
}
