// STAND-IN for `snapcraft remote-build` and the Launchpad it talks to (neither can run here),
// modelled on snapcraft 8.7+/9 over craft-application's remote builder:
// - refuses without --launchpad-accept-public-upload when stdin is not a terminal (exit 77);
// - needs the project at the top of a git repository that is not shallow;
// - reads launchpadlib credentials from $XDG_DATA_HOME/snapcraft/launchpad-credentials, and when
//   they are missing or not the ones "Launchpad" issued (STANDIN_LAUNCHPAD_TOKEN/_SECRET), starts
//   launchpadlib's browser login and waits for it, as the real one does;
// - copies the project, .git included, to $XDG_CACHE_HOME/snapcraft/remote-build/<id>/repo,
//   commits what is uncommitted, and pushes it with git to "Launchpad" (a bare repository under
//   STANDIN_LAUNCHPAD_DIR); the build id hashes every file of the project, so two identical trees
//   in flight at once clash ("Remote repository already exists.", exit 75, as 8.3-8.6 did);
// - the "builder" clones what was pushed and builds only that: each python part's constraints
//   must be in the pushed tree, or pip fails the build as it would;
// - writes <name>_<version>_<arch>.snap (squashfs, meta/snap.yaml, snap/snapcraft.yaml, an ELF
//   header of the arch) and <build-id>_<arch>_<time>.txt into the current directory;
// - refuses --build-for when snapcraft.yaml declares architectures or platforms (8.4-8.6, and
//   shorthand platforms until 8.12); without it, builds every arch the file declares;
// - launchpadlib's login prompt is print()ed: Python buffers it on a pipe unless
//   PYTHONUNBUFFERED is set, so without that it shows only when the 15-minute wait ends;
// - a part's local source (source:, python-packages paths) must be in the pushed tree;
// - a failed build exits 0 with its log and no snap, as 8.7+ does (craft-application #989);
// - honours --launchpad-timeout: "Timed out waiting for build." and exit 75.
// On demand: STANDIN_LAUNCHPAD_FAIL=<part> fails that part, STANDIN_LAUNCHPAD_SECONDS=<n> makes
// the build take n seconds, STANDIN_LAUNCHPAD_ELF=<arch> puts a binary of another arch in the snap.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fail(message, code = 1) {
  console.error(message);
  process.exit(code);
}

function option(args, name) {
  const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return undefined;
  return args[at].includes('=') ? args[at].slice(name.length + 1) : args[at + 1];
}

const git = (cwd, ...argv) =>
  execFileSync(
    'git',
    ['-c', 'user.name=snapcraft', '-c', 'user.email=snapcraft@localhost', ...argv],
    {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );

/** launchpadlib's credentials file: key = value lines under [1]. */
function readCredentials(file) {
  if (!existsSync(file)) return null;
  const values = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) values[m[1]] = m[2];
  }
  return values;
}

function filesUnder(dir, base = dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) out.push(...filesUnder(path, base));
    else if (stat.isFile()) out.push(path.slice(base.length + 1));
  }
  return out;
}

const MACHINE = {
  amd64: [62, 2, 1],
  arm64: [183, 2, 1],
  ppc64el: [21, 2, 1],
  s390x: [22, 2, 2],
  riscv64: [243, 2, 1],
  armhf: [40, 1, 1],
  i386: [3, 1, 1],
};

/** An ELF header of `arch` (the builder's stand-in for the binaries pip compiles). */
function elfHeader(arch) {
  const [machine, elfClass, data] = MACHINE[arch];
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = elfClass;
  header[5] = data;
  header[6] = 1;
  if (data === 1) header.writeUInt16LE(machine, 18);
  else header.writeUInt16BE(machine, 18);
  return header;
}

function projectFile(dir) {
  for (const path of ['snap/snapcraft.yaml', 'snapcraft.yaml', '.snapcraft.yaml'])
    if (existsSync(join(dir, path))) return path;
  return null;
}

/** The Launchpad builder: builds what was pushed, for one arch; returns [log lines, snap or null]. */
function build(pushed, arch, buildId, outDir) {
  const tree = mkdtempSync(join(tmpdir(), 'standin-lp-build-'));
  // Removed however the build ends (a failed one too).
  try {
    return buildIn(tree, pushed, arch, buildId, outDir);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

function buildIn(tree, pushed, arch, buildId, outDir) {
  git(tmpdir(), 'clone', '--quiet', '--branch', 'main', pushed, tree);
  const log = [`Building snap recipe ${buildId} for ${arch} from ${pushed} (main)`];
  const file = projectFile(tree);
  const project = parse(readFileSync(join(tree, file), 'utf8'), { merge: true });
  for (const [name, part] of Object.entries(project.parts ?? {})) {
    log.push(`Building ${name}`);
    if (process.env.STANDIN_LAUNCHPAD_FAIL === name) {
      log.push("error: command 'gcc' failed with exit status 1");
      log.push(`Failed to run the build script for part '${name}'.`);
      return [log, null];
    }
    const locals = [part?.source, ...(part?.['python-packages'] ?? [])].filter(
      (p) =>
        typeof p === 'string' &&
        (p === '.' ||
          p.startsWith('./') ||
          p.startsWith('../') ||
          (!p.includes(':') && p.includes('/'))),
    );
    for (const local of locals) {
      if (!existsSync(join(tree, local))) {
        log.push(`Failed to pull source for part '${name}': ${local} does not exist.`);
        return [log, null];
      }
    }
    if (part?.plugin !== 'python') continue;
    for (const constraint of [...(part['python-constraints'] ?? []), ...(part.constraints ?? [])]) {
      const path = String(constraint).replace(/^\$(CRAFT|SNAPCRAFT)_PROJECT_DIR\//, '');
      if (/^[a-z]+:\/\//.test(path)) {
        log.push(`pip: constraints from ${path}`);
        continue;
      }
      const local = join(tree, path);
      if (!existsSync(local)) {
        log.push(
          `ERROR: Could not open requirements file: [Errno 2] No such file or directory: '${local}'`,
        );
        log.push(`Failed to run the build script for part '${name}'.`);
        return [log, null];
      }
      const sha = createHash('sha256').update(readFileSync(local)).digest('hex');
      log.push(`pip: constraints ${path} sha256=${sha}`);
    }
  }
  const prime = join(tree, '.prime');
  mkdirSync(join(prime, 'meta'), { recursive: true });
  mkdirSync(join(prime, 'bin'), { recursive: true });
  mkdirSync(join(prime, 'snap'), { recursive: true });
  writeFileSync(
    join(prime, 'meta/snap.yaml'),
    `name: ${project.name}\nversion: '${project.version}'\nsummary: stand-in\ndescription: stand-in\narchitectures:\n  - ${arch}\nbase: ${project.base}\nconfinement: strict\ngrade: devel\n`,
  );
  writeFileSync(join(prime, 'snap/snapcraft.yaml'), readFileSync(join(tree, file)));
  writeFileSync(join(prime, 'bin/service'), elfHeader(process.env.STANDIN_LAUNCHPAD_ELF || arch));
  const snap = join(outDir, `${project.name}_${project.version}_${arch}.snap`);
  execFileSync('mksquashfs', [
    prime,
    snap,
    '-noappend',
    '-comp',
    'xz',
    '-all-root',
    '-quiet',
    '-no-progress',
  ]);
  log.push(`Snapped ${project.name}_${project.version}_${arch}.snap`);
  return [log, snap];
}

export async function remoteBuild(args) {
  const launchpad = process.env.STANDIN_LAUNCHPAD_DIR;
  if (!launchpad) fail('stand-in Launchpad: STANDIN_LAUNCHPAD_DIR is not set');
  console.log(
    'snapcraft remote-build is experimental and is subject to change - use with caution.',
  );
  if (!args.includes('--launchpad-accept-public-upload') && !process.stdin.isTTY)
    fail(
      'Remote build needs explicit acknowledgement that data sent to build servers is public.\nIn non-interactive runs, please use the option `--launchpad-accept-public-upload`.',
      77,
    );
  const timeout = Number(option(args, '--launchpad-timeout') ?? 0);
  const cwd = process.cwd();
  if (!existsSync(join(cwd, '.git')))
    fail(
      `The Git repository is invalid for remote build.\nCould not find a git repository in '${cwd}'`,
    );
  if (existsSync(join(cwd, '.git/shallow')))
    fail(
      'The Git repository is invalid for remote build.\nRemote build for shallow cloned git repos are no longer supported',
    );
  const file = projectFile(cwd);
  if (!file) fail('Project file not found.');
  const project = parse(readFileSync(join(cwd, file), 'utf8'), { merge: true });
  const declaredKey = project.platforms
    ? 'platforms'
    : project.architectures
      ? 'architectures'
      : null;
  const buildFor = option(args, '--build-for');
  if (buildFor && declaredKey)
    fail(
      `'--build-for' cannot be used when '${declaredKey}' is in the snapcraft.yaml.\nRemove '--build-for' from the command line or remove '${declaredKey}' in the snapcraft.yaml.`,
      78,
    );
  const declared =
    declaredKey === 'platforms'
      ? Object.entries(project.platforms).map(([name, p]) => [p?.['build-for'] ?? name].flat()[0])
      : declaredKey === 'architectures'
        ? project.architectures.flatMap((a) => [a['build-for'] ?? a['build-on'] ?? a].flat())
        : null;
  const arches = declared ?? (buildFor ?? process.env.CRAFT_BUILD_FOR ?? 'amd64').split(',');

  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local/share');
  const credentialsFile = join(data, 'snapcraft/launchpad-credentials');
  const credentials = readCredentials(credentialsFile);
  appendFileSync(
    join(launchpad, 'requests.log'),
    `${JSON.stringify({ credentialsFile, mode: credentials ? statSync(credentialsFile).mode & 0o777 : null, arches })}\n`,
  );
  if (
    !credentials ||
    credentials.access_token !== process.env.STANDIN_LAUNCHPAD_TOKEN ||
    credentials.access_secret !== process.env.STANDIN_LAUNCHPAD_SECRET
  ) {
    // launchpadlib's browser login, which waits 15 minutes for someone to click; its print()s
    // reach a pipe only when Python flushes (at once when unbuffered, else at exit).
    const prompt =
      'The authorization page:\n (https://launchpad.net/+authorize-token?oauth_token=standin&allow_permission=DESKTOP_INTEGRATION)\nshould be opening in your browser. Use your browser to authorize\nthis program to access Launchpad on your behalf.\nWaiting to hear from Launchpad about your decision...';
    if (process.env.PYTHONUNBUFFERED) console.log(prompt);
    await sleep(900_000);
    if (!process.env.PYTHONUNBUFFERED) console.log(prompt);
    fail('Timed out after 900 seconds.');
  }

  // craft-cli's log file ($XDG_STATE_HOME/snapcraft/log/snapcraft-<time>.log). At trace verbosity
  // httplib2's debug lines reach it, and Launchpad's OAuth is PLAINTEXT: the Authorization header
  // carries the token and, as the signature, the secret (STANDIN_LOG_HTTP=1 writes those lines).
  const logDir = join(
    process.env.XDG_STATE_HOME || join(homedir(), '.local/state'),
    'snapcraft/log',
  );
  mkdirSync(logDir, { recursive: true });
  appendFileSync(
    join(logDir, 'snapcraft-20261205-120000.123456.log'),
    `Starting snapcraft, version 8.11.2 (stand-in)\nremote-build for ${arches.join(', ')}\n` +
      (process.env.STANDIN_LOG_HTTP === '1'
        ? `send: b'GET /devel/~bot HTTP/1.1\\r\\nAuthorization: OAuth realm="https://api.launchpad.net/", oauth_consumer_key="${credentials.consumer_key}", oauth_token="${credentials.access_token}", oauth_signature_method="PLAINTEXT", oauth_signature="%26${credentials.access_secret}"\\r\\n'\n`
        : ''),
  );

  const hash = createHash('md5');
  for (const f of filesUnder(cwd)) hash.update(f).update(readFileSync(join(cwd, f)));
  const buildId = `snapcraft-${project.name}-${hash.digest('hex')}`;
  const pushed = join(launchpad, 'git', `${buildId}.git`);
  const inFlight = join(launchpad, 'in-flight', buildId);
  if (existsSync(inFlight)) fail('Remote repository already exists.', 75);
  mkdirSync(inFlight, { recursive: true });
  try {
    const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    const repo = join(cache, 'snapcraft/remote-build', buildId, 'repo');
    rmSync(repo, { recursive: true, force: true });
    // shutil.copytree without symlinks=True: a link becomes a copy of what it points at.
    cpSync(cwd, repo, { recursive: true, dereference: true });
    if (git(repo, 'status', '--porcelain').trim()) {
      git(repo, 'add', '--all');
      git(repo, 'commit', '--quiet', '-m', 'auto commit');
    }
    mkdirSync(pushed, { recursive: true });
    git(pushed, 'init', '--quiet', '--bare');
    git(repo, 'push', '--quiet', pushed, 'HEAD:refs/heads/main');
    console.log(
      `If interrupted, resume with: 'snapcraft remote-build --recover --build-id ${buildId}'`,
    );
    const seconds = Number(process.env.STANDIN_LAUNCHPAD_SECONDS ?? 0);
    if (timeout > 0 && seconds > timeout) {
      await sleep(timeout * 1000);
      fail("Timed out waiting for build.\nTo resume, run 'snapcraft remote-build --recover'", 75);
    }
    await sleep(seconds * 1000);
    const logs = [];
    const artifacts = [];
    for (const arch of arches) {
      const [lines, snap] = build(pushed, arch, buildId, cwd);
      const logFile = `${buildId}_${arch}_${new Date().toISOString().replace(/[-:.]/g, '')}.txt`;
      writeFileSync(join(cwd, logFile), `${lines.join('\n')}\n`);
      logs.push(logFile);
      if (snap) artifacts.push(snap.slice(cwd.length + 1));
    }
    console.log(
      `Build completed.\nLog files: ${logs.join(', ')}\nArtifacts: ${artifacts.join(', ')}`,
    );
  } finally {
    rmSync(inFlight, { recursive: true, force: true });
  }
}
