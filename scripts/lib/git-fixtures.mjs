// Real git repositories and a real git daemon for tests, the example and benchmarks.
// Plain JavaScript so that scripts (example, bench) and jest tests share one implementation.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'fixture',
  GIT_AUTHOR_EMAIL: 'fixture@example.invalid',
  GIT_COMMITTER_NAME: 'fixture',
  GIT_COMMITTER_EMAIL: 'fixture@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: process.env.HOME ?? '/tmp',
};

export function git(cwd, args, input) {
  return execFileSync('git', args, {
    cwd,
    env: GIT_ENV,
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/**
 * The refs openstack/requirements has, derived from openstack/releases' deliverables files:
 * branches as listed, -eol/-eom tags, and the branches OpenStack deletes (stable/<key> once it is
 * tagged -eom or -eol, unmaintained/<key> once -eol).
 */
export function requirementsHistory(releasesDir) {
  const status = parse(readFileSync(join(releasesDir, 'data/series_status.yaml'), 'utf8'));
  const keyOf = new Map(
    status.map((s) => [s.name, s['release-id'] ? String(s['release-id']) : s.name]),
  );
  const series = [];
  for (const name of readdirSync(join(releasesDir, 'deliverables')).sort()) {
    const file = join(releasesDir, 'deliverables', name, 'requirements.yaml');
    if (!existsSync(file)) continue;
    const deliverable = parse(readFileSync(file, 'utf8')) ?? {};
    const key = keyOf.get(name) ?? name;
    const branches = (deliverable.branches ?? []).map((b) => b.name);
    const tags = (deliverable.releases ?? [])
      .map((r) => String(r.version))
      .filter((v) => /-(eol|eom)$/.test(v));
    const deleted = branches.filter(
      (b) =>
        (b === `stable/${key}` && (tags.includes(`${key}-eol`) || tags.includes(`${key}-eom`))) ||
        (b === `unmaintained/${key}` && tags.includes(`${key}-eol`)),
    );
    series.push({ name, key, branches, tags, deleted });
  }
  return series;
}

/**
 * Builds a bare repository shaped like openstack/requirements from a history: master, then per
 * series its branches and annotated tags, each commit carrying an upper-constraints.txt (the real
 * file from `ucDir/<ref>/upper-constraints.txt` where there is one), then the deletions.
 */
export function buildRequirementsRepo(dir, history, ucDir) {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '--bare', '--quiet', '--initial-branch=master']);
  let stream = '';
  let mark = 0;
  let time = 1500000000;
  const uc = (ref, fallback) => {
    const file = ucDir ? join(ucDir, ref, 'upper-constraints.txt') : null;
    return file && existsSync(file) ? readFileSync(file, 'utf8') : fallback;
  };
  const commit = (ref, content, from, message) => {
    const blob = ++mark;
    stream += `blob\nmark :${blob}\ndata ${Buffer.byteLength(content)}\n${content}\n`;
    const id = ++mark;
    time += 60;
    stream += `commit ${ref}\nmark :${id}\ncommitter fixture <fixture@example.invalid> ${time} +0000\n`;
    stream += `data ${Buffer.byteLength(message)}\n${message}\n`;
    if (from) stream += `from :${from}\n`;
    stream += `M 100644 :${blob} upper-constraints.txt\n\n`;
    return id;
  };
  let master = commit(
    'refs/heads/master',
    uc('master', 'pbr===0.1\n'),
    null,
    'Initial constraints',
  );
  const deletions = [];
  for (const s of history) {
    const content = (ref) =>
      uc(ref, `# constraints of ${s.key} at ${ref}\npbr===${s.key}.0\nsix===1.0\n`);
    master = commit(
      'refs/heads/master',
      uc('master', `pbr===${s.key}.dev\n`),
      master,
      `Open ${s.key}`,
    );
    let tip = master;
    for (const branch of s.branches) {
      tip = commit(`refs/heads/${branch}`, content(branch), tip, `${branch} constraints`);
    }
    for (const tag of s.tags) {
      const at = uc(tag, null)
        ? commit(`refs/heads/tmp-${tag}`, content(tag), tip, `${tag} constraints`)
        : tip;
      const message = `${tag} tag`;
      stream += `tag ${tag}\nfrom :${at}\ntagger fixture <fixture@example.invalid> ${time} +0000\n`;
      stream += `data ${Buffer.byteLength(message)}\n${message}\n`;
      if (at !== tip) deletions.push(`tmp-${tag}`);
    }
    deletions.push(...s.deleted);
  }
  git(dir, ['fast-import', '--quiet'], stream);
  if (deletions.length) {
    git(dir, ['update-ref', '--stdin'], deletions.map((b) => `delete refs/heads/${b}\n`).join(''));
  }
  return dir;
}

/** A free TCP port on 127.0.0.1 (bound, then released for the daemon to take). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Serves every repository under `baseDir` with `git daemon` on 127.0.0.1; push enabled.
 *
 * `git daemon` is a wrapper that forks the real git-daemon, which forks upload-pack per client,
 * so the daemon runs in its own process group and is stopped as a group: killing only the wrapper
 * once left git-daemon orphaned on the port. No pipe is kept to it (an orphan holding a pipe keeps
 * the caller's event loop alive for ever), and its handle is unref'd so a forgotten daemon never
 * holds a process open; a process that exits without stopping it takes the group down with it.
 */
export async function startGitDaemon(baseDir) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      'git',
      [
        'daemon',
        '--export-all',
        `--base-path=${baseDir}`,
        '--listen=127.0.0.1',
        `--port=${port}`,
        '--reuseaddr',
        '--enable=receive-pack',
        '--informative-errors',
        baseDir,
      ],
      { stdio: 'ignore', env: GIT_ENV, detached: true },
    );
    child.unref();
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    const killGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    const groupAlive = () => {
      try {
        process.kill(-child.pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const onExit = () => killGroup('SIGKILL');
    process.once('exit', onExit);
    const url = `git://127.0.0.1:${port}`;
    const ready = await waitFor(async () => !exited() && (await canConnect(port)), 5000);
    if (ready && !exited()) {
      return {
        url,
        stop: async () => {
          process.removeListener('exit', onExit);
          if (!exited()) {
            // Re-ref'd while stopping: otherwise the loop can drain before 'exit' arrives and
            // Node exits 13 with the caller's top-level await unsettled.
            child.ref();
            await new Promise((resolve) => {
              const force = setTimeout(() => killGroup('SIGKILL'), 5000);
              child.once('exit', () => {
                clearTimeout(force);
                resolve();
              });
              killGroup('SIGTERM');
            });
          }
          // The wrapper is gone; take the rest of the group and wait (bounded) until it is.
          killGroup('SIGKILL');
          await waitFor(async () => !groupAlive(), 2000);
        },
      };
    }
    process.removeListener('exit', onExit);
    killGroup('SIGKILL');
  }
  throw new Error('git daemon did not start on 127.0.0.1');
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** An empty bare repository (a fresh destination). */
export function initBare(dir) {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '--bare', '--quiet', '--initial-branch=master']);
  // As GitHub's (and opendev's) servers do: partial-clone filters are served.
  git(dir, ['config', 'uploadpack.allowFilter', 'true']);
  return dir;
}

let clock = 1600000000;

/**
 * Adds `count` commits to `branch` of a bare repo with fast-import, starting from the branch's tip,
 * or from `from` (a ref or commit id) when given or when the branch does not exist yet.
 */
export function addCommits(dir, branch, count, { from, tag } = {}) {
  const exists = (() => {
    try {
      git(dir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
      return true;
    } catch {
      return false;
    }
  })();
  const start = from ?? (exists ? `refs/heads/${branch}` : null);
  let stream = '';
  for (let i = 0; i < count; i++) {
    clock += 1;
    const message = `${branch} change ${clock}`;
    const content = `${branch} ${clock}\n`;
    stream += `commit refs/heads/${branch}\ncommitter fixture <fixture@example.invalid> ${clock} +0000\n`;
    stream += `data ${Buffer.byteLength(message)}\n${message}\n`;
    if (i === 0 && start) stream += `from ${/^[0-9a-f]{40}$/.test(start) ? start : `${start}^0`}\n`;
    stream += `M 100644 inline ${branch.replace(/\//g, '_')}.txt\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  }
  git(dir, ['fast-import', '--quiet', '--force'], stream);
  if (tag) git(dir, ['tag', '-a', '-m', tag, tag, `refs/heads/${branch}`]);
  return git(dir, ['rev-parse', `refs/heads/${branch}`]).trim();
}

/** Every branch and tag of a repository (tags as tag objects), as `id ref` lines. */
export function refsOf(dir) {
  return git(dir, [
    'for-each-ref',
    '--format=%(objectname) %(refname)',
    'refs/heads',
    'refs/tags',
  ]).trim();
}
