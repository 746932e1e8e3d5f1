import { ToolError } from './errors.js';
import { exec, lastLines, type ExecResult } from './exec.js';

export type { ExecResult };

/**
 * `lxc`, as a thin client of the process funnel: argv arrays, no shell, output streamed line by
 * line to the log, failures as one sentence with LXD's reason.
 */
export class Lxd {
  constructor(
    private readonly options: {
      readonly command?: string;
      readonly onLine?: (line: string) => void;
    } = {},
  ) {}

  exec(args: readonly string[], onLine?: (line: string) => void): Promise<ExecResult> {
    const sink = onLine ?? this.options.onLine;
    return exec([this.options.command ?? 'lxc', ...args], {
      env: { LC_ALL: 'C' },
      installHint: 'install LXD (snap install lxd, or apt-get install lxd)',
      onLine: sink ? (line) => line && sink(line) : undefined,
    });
  }

  async run(args: readonly string[]): Promise<string> {
    const result = await this.exec(args);
    if (result.code !== 0)
      throw new ToolError(
        `lxc ${args.slice(0, 2).join(' ')}`,
        result.code,
        lastLines(result.stderr),
      );
    return result.stdout;
  }

  async available(): Promise<boolean> {
    try {
      return (await this.exec(['info'])).code === 0;
    } catch {
      return false;
    }
  }

  async imageExists(alias: string): Promise<boolean> {
    return (await this.imageFingerprint(alias)) !== null;
  }

  /** The sha256 fingerprint of the image `alias` names, or null when there is none. */
  async imageFingerprint(alias: string): Promise<string | null> {
    const info = await this.exec(['image', 'info', alias]);
    if (info.code !== 0) return null;
    return /^Fingerprint:\s*([0-9a-f]{64})\s*$/m.exec(info.stdout)?.[1] ?? null;
  }

  async launch(
    image: string,
    name: string,
    config: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    await this.run([
      'launch',
      image,
      name,
      ...Object.entries(config).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ]);
  }

  /** Runs argv in the instance; output lines go to `onLine` as they come. */
  execIn(
    name: string,
    argv: readonly string[],
    options: {
      cwd?: string;
      env?: Readonly<Record<string, string>>;
      onLine?: (line: string) => void;
    } = {},
  ): Promise<ExecResult> {
    const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    const cwd = options.cwd ? ['--cwd', options.cwd] : [];
    return this.exec(['exec', name, ...cwd, ...env, '--', ...argv], options.onLine);
  }

  /** Runs argv in the instance; a non-zero exit is a ToolError with the command's own reason. */
  async runIn(name: string, argv: readonly string[]): Promise<string> {
    const result = await this.execIn(name, argv);
    if (result.code !== 0)
      throw new ToolError(`lxc exec ${name} -- ${argv[0]}`, result.code, lastLines(result.stderr));
    return result.stdout;
  }

  async push(name: string, localDir: string, remoteParent: string): Promise<void> {
    await this.run([
      'file',
      'push',
      '--recursive',
      '--create-dirs',
      localDir,
      `${name}${remoteParent}`,
    ]);
  }

  async pushFile(name: string, localFile: string, remotePath: string): Promise<void> {
    await this.run(['file', 'push', '--create-dirs', localFile, `${name}${remotePath}`]);
  }

  async pull(
    name: string,
    remotePath: string,
    localPath: string,
    recursive = false,
  ): Promise<void> {
    await this.run([
      'file',
      'pull',
      ...(recursive ? ['--recursive'] : []),
      `${name}${remotePath}`,
      localPath,
    ]);
  }

  /** What the instance printed on its console, for failure reports. */
  async consoleLog(name: string): Promise<string> {
    return (await this.exec(['console', name, '--show-log'])).stdout;
  }

  async delete(name: string): Promise<void> {
    await this.exec(['delete', '--force', name]);
  }
}
