import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
} from 'node:fs';
import { basename, join, relative } from 'node:path';
import {
  ConfigurationError,
  ExternalError,
  Git,
  globMatcher,
  lastLines,
} from '../platform/index.js';

/**
 * What a remote build may send to Launchpad, where it becomes a public git repository: what the
 * project's git tracks (a nested repository's own tracked files, never what its .gitignore
 * leaves out), and the untracked files the user names (`include`). Nothing else: an untracked
 * `.env` a step wrote, a credentials file another action left in the workspace, a clone inside
 * the project. Whatever is to go and looks like a credential is refused unless `allow` names it.
 */
export interface RemoteFileRules {
  /** Globs (relative to the project) of untracked files to send as well. */
  readonly include: readonly string[];
  /** Globs of files that look like credentials but are not, to send anyway. */
  readonly allow: readonly string[];
}

export interface RemoteSelection {
  /** Paths relative to the project, sorted. */
  readonly files: string[];
  /** The untracked files among them (what `include` named). */
  readonly included: string[];
  /** Untracked files that are not sent, for the log. */
  readonly leftOut: string[];
}

/** Chooses the files, and refuses credential-shaped ones; the project must be in git. */
export async function remoteFiles(
  projectDir: string,
  rules: RemoteFileRules,
  input: { include: string; allow: string },
): Promise<RemoteSelection> {
  const tracked = await trackedFiles(projectDir, projectDir);
  if (tracked === null)
    throw new ConfigurationError(
      `${projectDir} is not in a git repository: a remote build sends what git tracks (Launchpad makes it public), so check the project out with git (actions/checkout).`,
    );
  const trackedSet = new Set(tracked);
  const includes = anyOf(rules.include, input.include);
  const untracked = walk(projectDir).filter((f) => !trackedSet.has(f));
  const included = untracked.filter((f) => includes(f));
  const files = [...new Set([...tracked, ...included])].sort();
  const allowed = anyOf(rules.allow, input.allow);
  const refused = files.flatMap((f) => {
    if (allowed(f)) return [];
    const why = credentialShape(f, join(projectDir, f));
    return why ? [`${f} (${why})`] : [];
  });
  if (refused.length > 0)
    throw new ConfigurationError(
      `A remote build would send ${refused.length === 1 ? 'a file that looks' : 'files that look'} like credentials to Launchpad, where the project is public: ` +
        `${refused.join('; ')}. Remove ${refused.length === 1 ? 'it' : 'them'} from the repository (and revoke what leaked), ` +
        `or, if ${refused.length === 1 ? 'it is' : 'they are'} not secret, list ${refused.length === 1 ? 'it' : 'them'} in '${input.allow}'.`,
    );
  return { files, included, leftOut: untracked.filter((f) => !included.includes(f)) };
}

/** A matcher for any of the globs (the toolkit's one dialect, platform/glob.ts). */
function anyOf(patterns: readonly string[], what: string): (path: string) => boolean {
  const matchers = patterns.map((p) => globMatcher(p, `'${what}' pattern`));
  return (path) => matchers.some((m) => m(path));
}

/**
 * What git tracks under `dir`, as paths relative to `root`: the index's files, a registered
 * submodule's through git itself, and for a gitlink of a repository that is not one (a clone
 * committed as a path), that repository's own tracked files. Null when `dir` is not in git.
 */
async function trackedFiles(dir: string, root: string): Promise<string[] | null> {
  const git = new Git({ cwd: dir, env: { GIT_LITERAL_PATHSPECS: '1' } });
  const result = await git.exec(['ls-files', '-z', '--recurse-submodules', '--', '.']);
  if (result.code !== 0) {
    if (/not a git repository/i.test(result.stderr)) return null;
    throw new ExternalError(
      `Cannot list the project's files with git (${lastLines(result.stderr)}), so the remote build cannot tell what to send.`,
    );
  }
  const out: string[] = [];
  for (const path of result.stdout.split('\0').filter(Boolean)) {
    const full = join(dir, path);
    const stat = existsSync(full) ? lstatSync(full) : null;
    if (stat?.isDirectory()) {
      // A gitlink git does not recurse into: the nested repository's own tracked files, if it is here.
      if (existsSync(join(full, '.git'))) out.push(...((await trackedFiles(full, root)) ?? []));
      continue;
    }
    if (stat) out.push(relative(root, full));
  }
  return out;
}

/** Every file and link under `dir` (relative paths), not descending into any `.git`. */
function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path, base));
    else out.push(relative(base, path));
  }
  return out;
}

// Names that hold credentials wherever they are (basename, lower case).
const CREDENTIAL_NAMES: readonly [RegExp, string][] = [
  [/^\.env(\.(?!example$|sample$|template$|dist$)[^/]+)?$/, 'an environment file'],
  [/^id_(rsa|dsa|ecdsa|ed25519)$/, 'an SSH private key'],
  [/\.(key|p12|pfx|jks|keystore|kdbx)$/, 'a key store'],
  [/^(credentials|client_secrets?[^/]*)\.json$/, 'a cloud credentials file'],
  [/^gha-creds-[^/]*\.json$/, "google-github-actions/auth's credentials"],
  [/^(\.netrc|_netrc|\.git-credentials|\.pgpass|\.htpasswd|\.pypirc)$/, 'a password file'],
  [/^launchpad-credentials$/, 'launchpadlib credentials'],
];

// What the first bytes of a credential say, whatever its name.
const CREDENTIAL_CONTENT: readonly [RegExp, string][] = [
  [/-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----/, 'a private key'],
  [/^\s*\[1\]\s*$[\s\S]*^\s*access_secret\s*=/m, 'launchpadlib credentials'],
  [/"type"\s*:\s*"service_account"[\s\S]*"private_key"/, 'a service account key'],
  [/aws_secret_access_key\s*=/i, 'AWS credentials'],
];

/** Why a file looks like a credential, or null. Reads at most its first 64 KiB. */
export function credentialShape(path: string, file: string): string | null {
  const name = basename(path).toLowerCase();
  for (const [pattern, what] of CREDENTIAL_NAMES) if (pattern.test(name)) return what;
  if (!existsSync(file) || !statSync(file).isFile()) return null;
  const head = Buffer.alloc(Math.min(statSync(file).size, 64 * 1024));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = head.toString('latin1');
  for (const [pattern, what] of CREDENTIAL_CONTENT) if (pattern.test(text)) return what;
  return null;
}
