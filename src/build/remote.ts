import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, relative } from 'node:path';
import { BuildError, buildFailure } from './failure.js';
import { verifyArch } from './verify.js';
import {
  ConfigurationError,
  exec,
  ExternalError,
  Git,
  lastLines,
  MissingProgramError,
} from '../platform/index.js';
import type { SnapInfo } from '../snapcraft/index.js';

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
  /** Files the build must carry whatever .gitignore says (the constraints and snapcraft.yaml it rewrote). */
  readonly mustTravel: readonly string[];
  /** The snap's name and the constraints applied, named in the commit sent to Launchpad. */
  readonly name: string;
  readonly constraints: string | null;
  readonly env: Readonly<Record<string, string>>;
  readonly outputDir: string;
  readonly logsDir: string;
  /** Scratch space (RUNNER_TEMP): the tree sent and the credentials live here, and are removed. */
  readonly workDir: string;
  readonly log?: (line: string) => void;
}

/** What to do when the credentials are missing, malformed or refused. */
export const LAUNCHPAD_CREDENTIALS_HELP =
  'Create them on your machine: run `snapcraft remote-build --launchpad-accept-public-upload` once in any snap project, ' +
  "authorise snapcraft in the Launchpad page it opens, then store the contents of ~/.local/share/snapcraft/launchpad-credentials as the repository's LAUNCHPAD_CREDENTIALS secret.";

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
  const keys = new Set(
    text
      .split(/\r?\n/)
      .map((l) => /^\s*([a-z_]+)\s*=\s*\S/.exec(l)?.[1])
      .filter(Boolean),
  );
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
 * - the tree sent is a fresh git repository with one commit of the project as it is now, so the
 *   rewritten snapcraft.yaml and the constraints travel (snapcraft 8.2+ pushes a copy of the
 *   project's git repository, refuses shallow clones, and needs the project at its top level);
 * - the credentials are a 0600 file in a 0700 directory of `workDir`, found by snapcraft through
 *   XDG_DATA_HOME, and removed with everything else in `finally`;
 * - snapcraft 8.7+ exits 0 when Launchpad's build failed, so success is a snap of `arch` that
 *   passes the same checks as any build, not the exit code.
 */
export async function buildRemote(options: RemoteBuildOptions): Promise<SnapInfo[]> {
  const log = options.log ?? (() => {});
  checkRemoteRequest(options);
  mkdirSync(options.workDir, { recursive: true });
  const scratch = mkdtempSync(join(options.workDir, 'osa-remote-'));
  try {
    const tree = join(scratch, 'tree');
    await prepareTree(options, tree);
    // snapcraft reads $XDG_DATA_HOME/snapcraft/launchpad-credentials and keeps its copy of the
    // tree under $XDG_CACHE_HOME/snapcraft/remote-build: both inside `scratch`.
    const data = join(scratch, 'data');
    mkdirSync(join(data, 'snapcraft'), { recursive: true, mode: 0o700 });
    const credentials = options.credentials.endsWith('\n')
      ? options.credentials
      : `${options.credentials}\n`;
    writeFileSync(join(data, 'snapcraft', 'launchpad-credentials'), credentials, { mode: 0o600 });
    return await runRemoteBuild(options, tree, { data, cache: join(scratch, 'cache') }, log);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The tree Launchpad builds: the project's files (not its .git), committed once. */
async function prepareTree(options: RemoteBuildOptions, tree: string): Promise<void> {
  cpSync(options.projectDir, tree, {
    recursive: true,
    // The project's own history stays here; snaps left in the project are outputs, not sources.
    filter: (source) =>
      basename(source) !== '.git' &&
      !(relative(options.projectDir, source) === basename(source) && source.endsWith('.snap')),
  });
  const git = new Git({ cwd: tree });
  const identity = [
    '-c',
    'user.name=openstack-snap-actions',
    '-c',
    'user.email=openstack-snap-actions@users.noreply.github.com',
  ];
  for (const argv of [
    ['init', '--quiet', '--initial-branch=main'],
    ['add', '--all'],
    // What the build must have goes in even where the project's .gitignore would leave it out.
    ...(options.mustTravel.length
      ? [
          [
            'add',
            '--force',
            '--',
            ...options.mustTravel.map((f) => relative(options.projectDir, f)),
          ],
        ]
      : []),
    [
      ...identity,
      'commit',
      '--quiet',
      '--no-verify',
      '--allow-empty',
      '-m',
      commitMessage(
        options.arch,
        options.name,
        await sourceCommit(options.projectDir),
        options.constraints,
      ),
    ],
  ]) {
    const result = await git.exec(argv);
    if (result.code !== 0)
      throw new ExternalError(
        `Cannot make the tree for the remote build (git ${argv.find((a) => !a.startsWith('-') && !a.includes('='))}): ${lastLines(result.stderr)}`,
      );
  }
  // Each file that must travel is in the commit, byte for byte.
  for (const file of options.mustTravel) {
    const path = relative(options.projectDir, file);
    const committed = await git.exec(['show', `HEAD:${path}`]);
    if (committed.code !== 0 || committed.stdout !== readFileSync(file, 'utf8'))
      throw new ExternalError(`${path} did not make it into the tree sent to Launchpad.`);
  }
}

async function runRemoteBuild(
  options: RemoteBuildOptions,
  tree: string,
  dirs: { data: string; cache: string },
  log: (line: string) => void,
): Promise<SnapInfo[]> {
  const argv = [
    options.snapcraft,
    'remote-build',
    '--launchpad-accept-public-upload',
    `--launchpad-timeout=${options.timeoutSeconds}`,
    `--build-for=${options.arch}`,
  ];
  const before = new Set(readdirSync(tree));
  const output: string[] = [];
  const abort = new AbortController();
  let loginPrompt = false;
  let result;
  try {
    result = await exec(argv, {
      cwd: tree,
      env: { ...options.env, XDG_DATA_HOME: dirs.data, XDG_CACHE_HOME: dirs.cache },
      // A stray CRAFT_BUILD_FOR becomes remote-build's default; a strategy can pick the legacy builder.
      dropEnv: /^(CRAFT_BUILD_FOR|SNAPCRAFT_BUILD_FOR|SNAPCRAFT_REMOTE_BUILD_STRATEGY)$/,
      stdin: '',
      // snapcraft's own timeout counts from the upload; ours also covers a hang before it.
      timeoutMs: (options.timeoutSeconds + 600) * 1000,
      killGroup: true,
      signal: abort.signal,
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
  if (loginPrompt)
    throw new ConfigurationError(
      `Launchpad refused the credentials (snapcraft started an interactive login, which cannot finish in CI; it was stopped). ${LAUNCHPAD_CREDENTIALS_HELP}`,
    );
  const all = output.join('\n');
  if (TIMED_OUT.test(all) || result.killed)
    throw new BuildError(
      `The ${options.arch} build on Launchpad did not finish in ${options.timeoutSeconds} s ('launchpad-timeout'); it may still be running there, but its tree was this job's and is gone. ` +
        `Give remote legs more time (remote-timeout-minutes, up to 360), or build ${options.arch} emulated. Last lines:\n${output.slice(-10).join('\n')}`,
      options.logsDir,
      null,
      null,
    );
  if (SHALLOW_OR_NOT_GIT.test(all))
    throw new BuildError(
      `snapcraft refused the tree this action made for it (a Bug of ours or a new snapcraft): ${lastLines(all)}`,
      options.logsDir,
      null,
      null,
    );
  const snapFiles = made.filter((f) => f.endsWith('.snap'));
  if (snapFiles.length === 0 || result.code !== 0) {
    // snapcraft 8.7+ says "Build completed" and exits 0 when Launchpad's build failed: the build
    // log says why; snapcraft's own output says why it never got that far.
    const buildLog = logs.map((f) => readFileSync(f, 'utf8').split('\n')).find((l) => l.length);
    throw buildFailure(
      options.arch,
      buildLog ?? output,
      result.code,
      options.logsDir,
      buildLog
        ? `failed on Launchpad${result.code !== 0 ? ` (snapcraft exit code ${result.code})` : ''}; the build log is in the logs`
        : `did not reach Launchpad: snapcraft remote-build exited ${result.code}${result.code === 0 ? ' and brought back no snap' : ''}`,
    );
  }
  mkdirSync(options.outputDir, { recursive: true });
  const snaps: SnapInfo[] = [];
  for (const name of snapFiles) {
    const target = join(options.outputDir, name);
    copyFileSync(join(tree, name), target);
    snaps.push(await verifyArch(target, options.arch));
  }
  return snaps;
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

/** The credentials' token and secrets, masked wherever a line of output might carry them. */
export function secretValues(credentials: string): string[] {
  return credentials
    .split(/\r?\n/)
    .map((l) => /^\s*(?:access_token|access_secret|consumer_secret)\s*=\s*(\S+)/.exec(l)?.[1])
    .filter((v): v is string => !!v && v.length >= 4);
}

/** The commit the project was checked out at, if it is in git. */
async function sourceCommit(projectDir: string): Promise<string | null> {
  const head = await new Git({ cwd: projectDir }).exec(['rev-parse', '--verify', 'HEAD']);
  return head.code === 0 ? head.stdout.trim() : null;
}

/** What is built, from what: the commit Launchpad builds says so. */
function commitMessage(
  arch: string,
  name: string,
  source: string | null,
  constraints: string | null,
): string {
  return [
    `Build ${name} for ${arch} on Launchpad`,
    '',
    ...(source ? [`Source: ${source}`] : []),
    ...(constraints ? [`Constraints: openstack/requirements ${constraints}`] : []),
  ].join('\n');
}
