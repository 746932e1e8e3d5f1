import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { BuildError, copySnapcraftLogs, failureOf, saveOutput } from './failure.js';
import { remoteFiles, type RemoteFileRules } from './remote-files.js';
import { verifyArch } from './verify.js';
import {
  Bug,
  ConfigurationError,
  exec,
  ExternalError,
  Git,
  lastLines,
  MissingProgramError,
  redactor,
} from '../platform/index.js';
import {
  localSources,
  parseSnapcraftYaml,
  singleTargetYaml,
  snapArchitectures,
  type SnapInfo,
} from '../snapcraft/index.js';

/** A build on Launchpad's builders, driven by `snapcraft remote-build` from this runner. */
export interface RemoteBuildOptions {
  /** The project as it is to be built: constraints already applied. */
  readonly projectDir: string;
  readonly arch: string;
  readonly snapcraft: string;
  /** The launchpadlib credentials file's contents (the LAUNCHPAD_CREDENTIALS secret). */
  readonly credentials: string;
  /** The caller accepted that the project is uploaded publicly to Launchpad. */
  readonly acceptPublicUpload: boolean;
  /** How long snapcraft waits on Launchpad (--launchpad-timeout). */
  readonly timeoutSeconds: number;
  /**
   * Files the tree must carry as given, whatever .gitignore says: the constraints, and the
   * snapcraft.yaml cut to this one target (paths relative to projectDir).
   */
  readonly files: readonly { readonly path: string; readonly content: string }[];
  /** `--build-for`, for a snapcraft.yaml that declares no architectures; null when it does. */
  readonly buildFor: string | null;
  /** The snap's name and the constraints applied, named in the commit sent to Launchpad. */
  readonly name: string;
  readonly constraints: string | null;
  readonly env: Readonly<Record<string, string>>;
  readonly outputDir: string;
  readonly logsDir: string;
  /** Scratch space (RUNNER_TEMP): the tree sent and the credentials live here, and are removed. */
  readonly workDir: string;
  /** Untracked files to send, and credential-shaped files to send anyway (remote-files.ts). */
  readonly rules: RemoteFileRules;
  /** Told what is sent (path and size), before anything is uploaded: the job summary. */
  readonly announce?: (files: readonly SentFile[]) => Promise<void>;
  readonly log?: (line: string) => void;
}

/** A file of the tree sent to Launchpad. */
export interface SentFile {
  readonly path: string;
  readonly size: number;
  /** Tracked by the project's git (or written by the toolkit: constraints, snapcraft.yaml). */
  readonly tracked: boolean;
}

/** How long past snapcraft's own timeout (which counts from the upload) before we stop it. */
const REMOTE_GRACE_SECONDS = 180;

/** What to do when the credentials are missing, malformed or refused. */
export const LAUNCHPAD_CREDENTIALS_HELP =
  'Create them on your machine: run `snapcraft remote-build --launchpad-accept-public-upload` once in any snap project, ' +
  "authorise snapcraft in the Launchpad page it opens, then store the contents of ~/.local/share/snapcraft/launchpad-credentials as LAUNCHPAD_CREDENTIALS in the deployment environment the remote legs run in (snap.yml's remote-environment, with the call's secrets: inherit).";

/**
 * Launchpad builds core22 and newer with the remote builder snapcraft 9 has; core20 and older
 * went through snapcraft 8's legacy builder, which works differently (and 9 dropped).
 */
export const REMOTE_BASES = ['core22', 'core24', 'core26'];

export function checkRemoteBase(base: string | null, file: string): void {
  if (!base || !REMOTE_BASES.includes(base))
    throw new ConfigurationError(
      `${file} has ${base ? `base ${base}` : 'no base'}; remote builds need ${REMOTE_BASES.join(', ')} (snapcraft's current remote builder): build this arch emulated.`,
    );
}

/**
 * What a remote build sends, from the project as it is after the constraints: snapcraft.yaml cut
 * to the one target (when it declares architectures), the constraints file, and whether to pass
 * `--build-for`. Refuses a part whose local source is outside the project, which Launchpad never
 * gets (the native build would have it).
 */
export function remoteTree(
  file: string,
  projectDir: string,
  arch: string,
  platform: string | undefined,
  constraintsFile: string | null,
): Pick<RemoteBuildOptions, 'files' | 'buildFor'> {
  const project = parseSnapcraftYaml(readFileSync(file, 'utf8'), file, projectDir);
  for (const { part, source } of localSources(project)) {
    if (leaves(projectDir, projectDir, source))
      throw new ConfigurationError(
        `${file}: part '${part}' has source '${source}', outside the project directory, which is all Launchpad gets: move the project to the repository's top level, or build ${arch} emulated.`,
      );
  }
  const { declared, targets } = snapArchitectures(project);
  const target = targets.find((t) => (platform ? t.platform === platform : t.buildFor === arch));
  if (declared && !target)
    throw new ConfigurationError(
      `${file} declares no ${platform ? `platform '${platform}'` : `build for ${arch}`}: check the matrix entry's arch and platform.`,
    );
  const files = [
    {
      path: relative(projectDir, file),
      content: target ? singleTargetYaml(project, target) : project.text,
    },
    ...(constraintsFile
      ? [
          {
            path: relative(projectDir, constraintsFile),
            content: readFileSync(constraintsFile, 'utf8'),
          },
        ]
      : []),
  ];
  return { files, buildFor: declared ? null : arch };
}

/** Whether `path`, written in `from`, is outside `root` (Launchpad gets only what is inside). */
function leaves(root: string, from: string, path: string): boolean {
  return isAbsolute(path) || relative(root, resolve(from, path)).startsWith('..');
}

/** What a remote build needs before anything runs: the opt-in, credentials, a sane wait. */
export function checkRemoteRequest(request: {
  readonly acceptPublicUpload: boolean;
  readonly credentials: string;
  readonly timeoutSeconds: number;
}): void {
  if (!request.acceptPublicUpload)
    throw new ConfigurationError(
      "A remote build uploads the project to Launchpad, where it is public: set 'launchpad-accept-public-upload: true' to accept that, or build this arch emulated.",
    );
  checkLaunchpadCredentials(request.credentials);
  // 0 would be snapcraft's "wait for ever": a job has a limit, and the wait must end inside it.
  if (!Number.isInteger(request.timeoutSeconds) || request.timeoutSeconds < 1)
    throw new ConfigurationError(
      `'launchpad-timeout' must be a whole number of seconds, at least 1, not '${request.timeoutSeconds}'.`,
    );
}

/** launchpadlib's credentials file: a `[1]` section with the consumer and the access token. */
function checkLaunchpadCredentials(text: string): void {
  if (!text.trim())
    throw new ConfigurationError(
      `A remote build needs Launchpad credentials ('launchpad-credentials' is empty). ${LAUNCHPAD_CREDENTIALS_HELP}`,
    );
  const keys = new Set(credentialValues(text).map(([key]) => key));
  const missing = ['consumer_key', 'access_token', 'access_secret'].filter((k) => !keys.has(k));
  if (!/^\s*\[1\]\s*$/m.test(text) || missing.length > 0)
    throw new ConfigurationError(
      `'launchpad-credentials' is not a launchpadlib credentials file (a [1] section with consumer_key, access_token and access_secret${missing.length ? `; ${missing.join(', ')} missing` : ''}). ${LAUNCHPAD_CREDENTIALS_HELP}`,
    );
}

// launchpadlib, given no credentials or refused ones, starts a browser login and waits 15 minutes.
const LOGIN_PROMPT = /authorization page|Waiting to hear from Launchpad|Please open this URL/i;
const TIMED_OUT = /Timed out waiting for build/i;
const SHALLOW_OR_NOT_GIT =
  /git repository is invalid|shallow cloned|Could not find a git repository/i;

/**
 * Sends the project to Launchpad and brings the snap back:
 * - the tree sent is a fresh git repository with one commit of the project as it is now
 *   (snapcraft 8.2+ pushes a copy of the project's git repository, refuses shallow clones, and
 *   needs the project at its top level): what git tracks, what it does not ignore (as snapcraft's
 *   own commit of a dirty tree), and the files given, whatever .gitignore says;
 * - the credentials are a 0600 file in a 0700 directory of `workDir`, found by snapcraft through
 *   XDG_DATA_HOME, and removed with everything else in `finally`;
 * - snapcraft 8.7+ exits 0 when Launchpad's build failed, so success is a snap of `arch` that
 *   passes the same checks as any build, not the exit code.
 */
export async function buildRemote(options: RemoteBuildOptions): Promise<SnapInfo[]> {
  const log = options.log ?? (() => {});
  checkRemoteRequest(options);
  mkdirSync(options.workDir, { recursive: true });
  const scratch = mkdtempSync(join(options.workDir, REMOTE_SCRATCH_PREFIX));
  // A cancelled job (the runner's SIGINT, then SIGTERM) stops snapcraft and removes the tree and
  // the credentials before the process goes; what a SIGKILL leaves, the post step removes.
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    abort.abort();
    rmSync(scratch, { recursive: true, force: true });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const tree = join(scratch, 'tree');
    const sent = await prepareTree(options, tree, log);
    await options.announce?.(sent);
    // snapcraft reads $XDG_DATA_HOME/snapcraft/launchpad-credentials, keeps its copy of the tree
    // under $XDG_CACHE_HOME/snapcraft/remote-build and its log under $XDG_STATE_HOME: all here.
    const data = join(scratch, 'data');
    mkdirSync(join(data, 'snapcraft'), { recursive: true, mode: 0o700 });
    const credentials = options.credentials.endsWith('\n')
      ? options.credentials
      : `${options.credentials}\n`;
    writeFileSync(join(data, 'snapcraft', 'launchpad-credentials'), credentials, { mode: 0o600 });
    const dirs = { data, cache: join(scratch, 'cache'), state: join(scratch, 'state') };
    try {
      return await runRemoteBuild(options, tree, dirs, log, abort, (pid) =>
        writeFileSync(join(scratch, 'snapcraft.pid'), String(pid)),
      );
    } finally {
      // snapcraft's own logs are copied for the artifact with every credential value replaced.
      copySnapcraftLogs(
        join(options.logsDir, 'snapcraft-logs'),
        dirs.state,
        redactor(secretValues(options.credentials)),
      );
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The scratch directories of remote builds in workDir (their tree and credentials). */
const REMOTE_SCRATCH_PREFIX = 'osa-remote-';

/**
 * What a remote build that was killed outright left in `workDir`: its snapcraft (and everything
 * snapcraft started) is stopped, and its tree and credentials removed. For a post step; says
 * what it did, one line each.
 */
export function cleanUpRemoteBuilds(workDir: string): string[] {
  if (!existsSync(workDir)) return [];
  const done: string[] = [];
  for (const entry of readdirSync(workDir)) {
    if (!entry.startsWith(REMOTE_SCRATCH_PREFIX)) continue;
    const dir = join(workDir, entry);
    const pidFile = join(dir, 'snapcraft.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
    if (Number.isInteger(pid) && pid > 1) {
      try {
        // snapcraft ran in a process group of its own (exec's killGroup): all of it goes.
        process.kill(-pid, 'SIGKILL');
        done.push(`stopped snapcraft (process group ${pid})`);
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    done.push(`removed ${entry} (the tree and the Launchpad credentials)`);
  }
  return done;
}

/** git for the tree: none of the runner's configuration (signing, autocrlf, hooks) applies. */
function treeGit(cwd: string): Git {
  return new Git({
    cwd,
    // Paths are names, never pathspec magic or globs.
    env: { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_LITERAL_PATHSPECS: '1' },
    config: {
      'user.name': 'openstack-snap-actions',
      'user.email': 'openstack-snap-actions@users.noreply.github.com',
      'commit.gpgsign': 'false',
      'core.autocrlf': 'false',
      'core.hooksPath': '/dev/null',
    },
  });
}

async function prepareTree(
  options: RemoteBuildOptions,
  tree: string,
  log: (line: string) => void,
): Promise<SentFile[]> {
  const { projectDir } = options;
  const selection = await remoteFiles(projectDir, options.rules, {
    include: 'launchpad-include',
    allow: 'launchpad-allow',
  });
  // Only what goes is copied: links stay as written (one that leaves the project is refused
  // below), and files keep their modes.
  mkdirSync(tree, { recursive: true });
  for (const path of selection.files) {
    const from = join(projectDir, path);
    const to = join(tree, path);
    mkdirSync(dirname(to), { recursive: true });
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
  }
  for (const file of options.files) {
    mkdirSync(dirname(join(tree, file.path)), { recursive: true });
    writeFileSync(join(tree, file.path), file.content);
  }
  const git = treeGit(tree);
  const steps: [string[], string?][] = [
    [['init', '--quiet', '--initial-branch=main']],
    // Everything here was chosen: the project's .gitignore must not drop a file it tracks.
    [
      ['add', '--force', '--pathspec-from-file=-', '--pathspec-file-nul'],
      [...new Set([...selection.files, ...options.files.map((f) => f.path)])]
        .map((f) => `${f}\0`)
        .join(''),
    ],
    [
      [
        'commit',
        '--quiet',
        '--no-verify',
        '--allow-empty',
        '-m',
        commitMessage(options.name, await sourceCommit(projectDir), options.constraints),
      ],
    ],
    // The tree is then the commit and nothing else: snapcraft commits whatever else it finds.
    [['clean', '-ffdxq']],
  ];
  for (const [argv, input] of steps) {
    const result = await git.exec(argv, input);
    if (result.code !== 0)
      throw new ExternalError(
        `Cannot make the tree for the remote build (git ${argv[0]}): ${lastLines(result.stderr)}`,
      );
  }
  // Each file given is in the commit, byte for byte.
  for (const file of options.files) {
    const committed = await git.exec(['show', `HEAD:${file.path}`]);
    if (committed.code !== 0 || committed.stdout !== file.content)
      throw new ExternalError(
        `${file.path} did not make it into the tree sent to Launchpad as written${committed.code === 0 ? ' (a .gitattributes text or eol rule changed it?)' : ''}.`,
      );
  }
  // `<mode> <type> <object> <size>\t<path>`, one a file.
  const entries = (await git.exec(['ls-tree', '-r', '-l', '-z', '--full-tree', 'HEAD'])).stdout
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode, , , size] = line.slice(0, tab).split(/\s+/);
      return { mode: mode!, path: line.slice(tab + 1), size: Number(size) || 0 };
    });
  // A link that leaves the project would point nowhere on Launchpad, and snapcraft's copy would
  // send what it points at from this runner: refused, among what is sent.
  for (const { path } of entries.filter((e) => e.mode === '120000')) {
    const target = readlinkSync(join(tree, path));
    if (leaves(tree, join(tree, path, '..'), target))
      throw new ConfigurationError(
        `${path} links to ${target}, outside the project: Launchpad gets only the project's files. Copy the file in, or build this arch emulated.`,
      );
  }
  const untracked = new Set(selection.included);
  const sent = entries.map((e) => ({
    path: e.path,
    size: e.size,
    tracked: !untracked.has(e.path),
  }));
  const ours = new Set(options.files.map((f) => f.path));
  const leftOut = selection.leftOut.filter((f) => !ours.has(f));
  log(
    `Sending ${sent.length} files to Launchpad (public): what git tracks, the constraints` +
      (untracked.size ? `, and ${untracked.size} untracked that launchpad-include names` : '') +
      (leftOut.length
        ? `; not sent, as git does not track ${leftOut.length === 1 ? 'it' : 'them'}: ${leftOut.slice(0, 20).join(', ')}${leftOut.length > 20 ? ', ...' : ''}`
        : ''),
  );
  return sent;
}

async function runRemoteBuild(
  options: RemoteBuildOptions,
  tree: string,
  dirs: { data: string; cache: string; state: string },
  log: (line: string) => void,
  abort: AbortController,
  onSpawn: (pid: number) => void,
): Promise<SnapInfo[]> {
  const argv = [
    options.snapcraft,
    'remote-build',
    '--launchpad-accept-public-upload',
    `--launchpad-timeout=${options.timeoutSeconds}`,
    ...(options.buildFor ? [`--build-for=${options.buildFor}`] : []),
  ];
  const before = new Set(readdirSync(tree));
  const output: string[] = [];
  let loginPrompt = false;
  let result;
  try {
    result = await exec(argv, {
      cwd: tree,
      env: {
        ...options.env,
        XDG_DATA_HOME: dirs.data,
        XDG_CACHE_HOME: dirs.cache,
        XDG_STATE_HOME: dirs.state,
        // launchpadlib's login prompt is a print(): unbuffered, it reaches us while it waits.
        PYTHONUNBUFFERED: '1',
      },
      // A stray CRAFT_BUILD_FOR becomes remote-build's default; a strategy can pick the legacy builder.
      dropEnv: /^(CRAFT_BUILD_FOR|SNAPCRAFT_BUILD_FOR|SNAPCRAFT_REMOTE_BUILD_STRATEGY)$/,
      stdin: '',
      // snapcraft's own timeout counts from the upload; ours also covers a hang before it.
      timeoutMs: (options.timeoutSeconds + REMOTE_GRACE_SECONDS) * 1000,
      killGroup: true,
      signal: abort.signal,
      onSpawn,
      secrets: secretValues(options.credentials),
      onLine: (line) => {
        if (!line) return;
        output.push(line);
        log(line);
        if (LOGIN_PROMPT.test(line) && !loginPrompt) {
          loginPrompt = true;
          abort.abort();
        }
      },
    });
  } catch (error) {
    if (error instanceof MissingProgramError)
      throw new ConfigurationError(
        `${options.snapcraft} is not installed on this runner: set 'setup: true' to have the action install it, or install it yourself.`,
      );
    throw error;
  }
  const made = readdirSync(tree).filter((f) => !before.has(f) && statSync(join(tree, f)).isFile());
  const logs = keepLogs(
    tree,
    made.filter((f) => f.endsWith('.txt')),
    options.logsDir,
  );
  const snapFiles = made.filter((f) => f.endsWith('.snap'));
  if (snapFiles.length > 0 && result.code === 0 && !loginPrompt) {
    mkdirSync(options.outputDir, { recursive: true });
    const snaps: SnapInfo[] = [];
    try {
      for (const name of snapFiles) {
        const target = join(options.outputDir, name);
        copyFileSync(join(tree, name), target);
        snaps.push(await verifyArch(target, options.arch));
      }
    } catch (error) {
      saveOutput(options.logsDir, output);
      throw error;
    }
    return snaps;
  }
  // Whatever went wrong, snapcraft's own output is kept beside Launchpad's logs.
  saveOutput(options.logsDir, output);
  const all = output.join('\n');
  const buildId = /--build-id (\S+?)'?$/m.exec(all)?.[1];
  if (loginPrompt)
    throw new ConfigurationError(
      `Launchpad refused the credentials (snapcraft started an interactive login, which cannot finish in CI; it was stopped). ${LAUNCHPAD_CREDENTIALS_HELP}`,
    );
  if (TIMED_OUT.test(all) || result.killed)
    throw new BuildError(
      `The ${options.arch} build on Launchpad did not finish in ${options.timeoutSeconds} s ('launchpad-timeout')${buildId ? `; Launchpad may still be building ${buildId}, which this job cannot recover (its tree is gone)` : ''}. ` +
        `Give remote legs more time (remote-timeout-minutes, up to 360), or build ${options.arch} emulated. Last lines:\n${output.slice(-10).join('\n')}\nLogs: ${options.logsDir}`,
      options.logsDir,
      null,
      null,
    );
  if (SHALLOW_OR_NOT_GIT.test(all))
    throw new Bug(`snapcraft refused the tree this action made for it: ${lastLines(all)}`);
  // snapcraft 8.7+ says "Build completed" and exits 0 when Launchpad's build failed: the build
  // log says why; snapcraft's own output says why it never got that far.
  const buildLog = logs
    .map((f) => readFileSync(f, 'utf8').trimEnd().split('\n'))
    .find((l) => l.length);
  if (!buildLog)
    throw failureOf(
      options.arch,
      output,
      result.code,
      options.logsDir,
      `did not reach Launchpad: snapcraft remote-build exited ${result.code}${result.code === 0 ? ' and brought back no snap' : ''}`,
    );
  throw failureOf(
    options.arch,
    buildLog,
    result.code,
    options.logsDir,
    `failed on Launchpad${result.code !== 0 ? ` (snapcraft exit code ${result.code})` : ''}; the build log is in the logs`,
  );
}

/** remote-build's logs (one .txt per build, failed ones too) into logsDir; their paths there. */
function keepLogs(tree: string, logs: readonly string[], logsDir: string): string[] {
  if (logs.length === 0) return [];
  const dir = join(logsDir, 'launchpad');
  mkdirSync(dir, { recursive: true });
  return logs.map((f) => {
    copyFileSync(join(tree, f), join(dir, f));
    return join(dir, f);
  });
}

/** launchpadlib's `key = value` lines, in order (values are single words). */
function credentialValues(text: string): [key: string, value: string][] {
  return text.split(/\r?\n/).flatMap((line) => {
    const match = /^\s*([a-z_]+)\s*=\s*(\S+)/.exec(line);
    return match ? [[match[1]!, match[2]!] as [string, string]] : [];
  });
}

/** The credentials' token and secrets, masked wherever a line of output might carry them. */
export function secretValues(credentials: string): string[] {
  const secret = ['access_token', 'access_secret', 'consumer_secret'];
  return credentialValues(credentials)
    .filter(([key, value]) => secret.includes(key) && value.length >= 4)
    .map(([, value]) => value);
}

/** The commit the project was checked out at, if it is in git. */
async function sourceCommit(projectDir: string): Promise<string | null> {
  const head = await new Git({ cwd: projectDir }).exec(['rev-parse', '--verify', 'HEAD']);
  return head.code === 0 ? head.stdout.trim() : null;
}

/** What is built, from what: the commit Launchpad builds says so. */
function commitMessage(name: string, source: string | null, constraints: string | null): string {
  return [
    `Build ${name} on Launchpad`,
    '',
    ...(source ? [`Source: ${source}`] : []),
    ...(constraints ? [`Constraints: openstack/requirements ${constraints}`] : []),
  ].join('\n');
}
