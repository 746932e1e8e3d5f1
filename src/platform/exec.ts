import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ToolError } from './errors.js';
import { redactor, redactUserinfo } from './redact.js';

/** How to run one program. Argv only: there is no shell to quote for or inject into. */
export interface ExecOptions {
  readonly cwd?: string;
  /** Added to this process's environment (secrets travel here, never in argv). */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables of this process's environment the program must not inherit (before `env`). */
  readonly dropEnv?: RegExp;
  readonly stdin?: string | Buffer;
  /** Kill the program (and say so) after this long. */
  readonly timeoutMs?: number;
  /** Aborting kills the program (with killGroup, everything it started too). */
  readonly signal?: AbortSignal;
  /**
   * Run the program in its own process group and kill the whole group on timeout or abort: a
   * hung command's children must not outlive it.
   */
  readonly killGroup?: boolean;
  /** Each complete line as it comes, stdout and stderr alike, with secrets redacted. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Values that must never appear in a line, an error or a result; replaced by `***`. */
  readonly secrets?: readonly string[];
  /**
   * Run as root: as is when this process is root, else through `sudo -n` (never prompts), which
   * keeps `env` by name (`--preserve-env=`), so its values (a password) never reach argv.
   */
  readonly asRoot?: boolean;
  /** What to install when the program is missing, for the error (`apt-get install squashfs-tools`). */
  readonly installHint?: string;
  /** Told the program's pid once it started (with killGroup, also its process group's id). */
  readonly onSpawn?: (pid: number) => void;
}

export interface ExecResult {
  readonly code: number;
  /** Exactly what the program wrote (secrets redacted): a file's content stays byte for byte. */
  readonly stdout: string;
  readonly stderr: string;
  /** Every line, stdout and stderr as they came (the meaningful last lines of a failure are here). */
  readonly lines: readonly string[];
  /** The program ran past timeoutMs or was aborted, and was killed. */
  readonly killed: boolean;
}

/** The program is not installed (or not on PATH). */
export class MissingProgramError extends ToolError {
  constructor(program: string, hint?: string) {
    super(program, 127, `${program} is not installed${hint ? `: ${hint}` : ''}`);
  }
}

/**
 * The one rule for running as root: as is when root; else `sudo -n` (never prompts), keeping the
 * named variables of the environment by name, so their values never reach argv.
 */
export function asRoot(
  argv: readonly string[],
  keep: readonly string[],
  uid = process.getuid?.() ?? 0,
): string[] {
  if (uid === 0) return [...argv];
  return ['sudo', '-n', ...(keep.length ? [`--preserve-env=${keep.join(',')}`] : []), ...argv];
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

/**
 * The one way the toolkit starts a program: argv only, line-buffered output streamed to
 * `onLine` as it comes, cwd/env/stdin/timeout/abort, secrets redacted from every line and error.
 * Resolves with the exit code whatever it is; a program that cannot start is a
 * MissingProgramError (or the spawn error).
 */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const full = options.asRoot ? asRoot(argv, Object.keys(options.env ?? {})) : [...argv];
  const redact = redactor(options.secrets);
  return new Promise((resolvePromise, reject) => {
    if (options.signal?.aborted) {
      resolvePromise({ code: 130, stdout: '', stderr: 'aborted', lines: [], killed: true });
      return;
    }
    const env = { ...inheritedEnv(options.dropEnv), ...options.env };
    const child = spawn(full[0]!, full.slice(1), {
      cwd: options.cwd,
      env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: options.killGroup,
    });
    if (child.pid) options.onSpawn?.(child.pid);
    const raw = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const lines: string[] = [];
    const splitter = (stream: 'stdout' | 'stderr') =>
      new LineSplitter((line) => {
        const clean = redact(line);
        lines.push(clean);
        options.onLine?.(clean, stream);
      });
    const out = splitter('stdout');
    const err = splitter('stderr');
    child.stdout!.on('data', (chunk: Buffer) => {
      raw.stdout.push(chunk);
      out.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      raw.stderr.push(chunk);
      err.push(chunk);
    });
    let killed = false;
    const kill = (): void => {
      killed = true;
      try {
        if (options.killGroup && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = options.timeoutMs ? setTimeout(kill, options.timeoutMs) : undefined;
    options.signal?.addEventListener('abort', kill, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      done();
      if (error.code === 'ENOENT') {
        reject(new MissingProgramError(full[0]!, options.installHint));
      } else if (error.code === 'EACCES') {
        // Also what a search of PATH says when the program is nowhere and some directory on it
        // could not be searched (a PATH inherited from another user): that is missing too.
        const found = onPath(full[0]!, env.PATH);
        reject(
          found
            ? new ToolError(full[0]!, 126, `${found} is not executable`)
            : new MissingProgramError(full[0]!, options.installHint),
        );
      } else reject(error);
    });
    child.on('close', (code, signal) => {
      done();
      out.end();
      err.end();
      let stderr = redact(Buffer.concat(raw.stderr).toString('utf8'));
      if (killed && options.timeoutMs && !options.signal?.aborted)
        stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}timed out after ${Math.round(options.timeoutMs / 1000)} s`;
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: redact(Buffer.concat(raw.stdout).toString('utf8')),
        stderr,
        lines,
        killed,
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
 * and its subcommand, or `name`) with its meaningful last lines.
 */
export async function execOk(
  argv: readonly string[],
  options: ExecOptions & { readonly name?: string } = {},
): Promise<ExecResult> {
  const result = await exec(argv, options);
  if (result.code !== 0) {
    throw new ToolError(
      options.name ?? argv.slice(0, 2).join(' '),
      result.code,
      lastLines(result.stderr || result.stdout),
    );
  }
  return result;
}

/**
 * The line that says why a program failed: its last `fatal:`/`error:`/`E:` line, else its last
 * lines; URLs lose any userinfo, so a token typed into one never shows.
 */
export function lastLines(text: string, count = 1): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const reason = [...lines].reverse().find((l) => /^(fatal|error|E):/i.test(l));
  return redactUserinfo(reason ?? lines.slice(-count).join(' / '));
}

/**
 * The environment a program inherits: this process's, less the action's inputs (INPUT_*, which
 * hold its tokens and credentials) and the runner's own tokens. A program gets a secret only when
 * the caller passes it in `env`, so a hook, a build script or a stand-in never sees the rest.
 */
/**
 * Where a search of `path` finds a file named `program` (a name with a slash is its own path);
 * undefined when none of its directories that can be searched holds one.
 */
function onPath(program: string, path = ''): string | undefined {
  const candidates = program.includes('/')
    ? [program]
    : path.split(delimiter).map((dir) => join(dir || '.', program));
  return candidates.find((file) => {
    try {
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

function inheritedEnv(drop?: RegExp): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^INPUT_|^ACTIONS_(RUNTIME_TOKEN|ID_TOKEN_REQUEST_TOKEN)$/.test(key) && !drop?.test(key))
      env[key] = value;
  return env;
}
