import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';

/** Where a name to exclude from the constraints came from, for the summary. */
export interface ProjectName {
  readonly name: string;
  readonly from: string;
}

// A file name of a source archive or a wheel, and the project name at its front:
// keystone-stable-ocata.tar.gz, nova-master.tar.gz, nova-unmaintained-2023.1.tar.gz,
// keystone-ocata-eol.tar.gz, tempest-14.0.0.tar.gz, python_openstackclient-7.1.5.tar.gz (an
// sdist), osc_lib-3.0.0-py3-none-any.whl.
const ARCHIVE = /\.(tar\.gz|tgz|tar\.bz2|tar\.xz|zip|whl)$/;
const NAMED_ARCHIVE =
  /^([A-Za-z0-9_.]+?(?:-[A-Za-z][A-Za-z0-9_.]*?)*?)-(?:(?:stable|unmaintained)-[A-Za-z0-9.]+|[A-Za-z0-9.]+-(?:eol|eom)|master|main|v?\d[A-Za-z0-9.+!_-]*)\.(?:tar\.gz|tgz|tar\.bz2|tar\.xz|zip|whl)$/;

// A forge's archive of a repository at a ref: the repository names the project, not the file
// (github.com/openstack/python-openstackclient/archive/refs/tags/7.1.5.tar.gz is 7.1.5.tar.gz).
const FORGE_ARCHIVE = [
  /^\/([^/]+)\/([^/]+)\/archive\//, // GitHub, Gitea and Forgejo (opendev.org)
  /^\/([^/]+)\/([^/]+)\/-\/archive\//, // GitLab
  /^\/([^/]+)\/([^/]+)\/(?:tarball|zipball)\//, // GitHub's tarball and zipball links
];
const CODELOAD = /^\/([^/]+)\/([^/]+)\/(?:tar\.gz|zip|legacy\.tar\.gz|legacy\.zip)\//; // codeload.github.com
const GITHUB_API = /^\/repos\/([^/]+)\/([^/]+)\/(?:tarball|zipball)(?:\/|$)/; // api.github.com

/**
 * OpenStack repositories whose distribution has another name (each repo's setup.cfg
 * `[metadata] name`): the constraints pin the distribution.
 */
const DISTRIBUTION_OF_REPO: Readonly<Record<string, string>> = {
  keystoneauth: 'keystoneauth1', // opendev.org/openstack/keystoneauth
};

/**
 * The distribution name a python part's source (or an entry of python-packages) installs, where it
 * can be told without fetching it: a `#egg=` fragment; a PEP 508 `name @ url`; a forge's archive
 * URL or a git URL (pip's `git+https://host/org/repo@ref` included) by its repository; an
 * archive or wheel by its file name; a local tree by its pyproject.toml or setup.cfg. Undefined
 * when it cannot be told (a subdirectory of a remote repository, a download link that names
 * nothing): the caller warns rather than guesses.
 */
export function nameFromSource(
  source: string,
  projectDir: string,
  subdir = '',
): string | undefined {
  const egg = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(source);
  if (egg) return egg[1];
  const direct = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@\s*\S/.exec(source);
  if (direct && !/^[\w.-]+@[\w.-]+:/.test(source)) return direct[1];
  const scp = /^[\w.-]+@[\w.-]+:(?:[^/]+\/)*([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(source);
  if (scp) return subdir ? undefined : repositoryDistribution(scp[1]!);
  if (/^lp:/.test(source)) return undefined; // Launchpad (bzr): nothing to read here
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    const local = resolve(projectDir, source, subdir);
    // A local sdist or wheel is named by its file; a tree by its own metadata.
    if (ARCHIVE.test(local)) return NAMED_ARCHIVE.exec(local.split('/').at(-1)!)?.[1];
    return nameFromPythonProject(local);
  }
  // The project in a subdirectory of a remote repository is not the repository's: unknown.
  if (subdir || /[#&]subdirectory=/.test(source)) return undefined;
  let url: URL;
  try {
    url = new URL(source.replace(/^(git|hg|svn|bzr)\+/, ''));
  } catch {
    return undefined;
  }
  // pip's VCS form pins a ref after the path: git+https://opendev.org/openstack/osc-lib@stable/2024.2
  const vcs = /^(git|hg|svn|bzr)\+/.test(source) || url.protocol === 'git:';
  const path = decodeURIComponent(url.pathname);
  const patterns =
    url.hostname === 'codeload.github.com'
      ? [CODELOAD]
      : url.hostname === 'api.github.com'
        ? [GITHUB_API]
        : FORGE_ARCHIVE;
  for (const pattern of patterns) {
    const match = pattern.exec(path);
    if (match) return repositoryDistribution(match[2]!);
  }
  const file = path.split('/').filter(Boolean).at(-1) ?? '';
  if (!vcs && ARCHIVE.test(file)) return NAMED_ARCHIVE.exec(file)?.[1];
  const repoPath = vcs ? path.replace(/@[^/]*(\/.*)?$/, '') : path;
  const repo = /\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(repoPath);
  if (
    repo &&
    (vcs || path.endsWith('.git') || /(^|\.)(github\.com|opendev\.org)$/.test(url.hostname))
  ) {
    return repositoryDistribution(repo[1]!);
  }
  return undefined;
}

function repositoryDistribution(repo: string): string {
  return DISTRIBUTION_OF_REPO[repo.toLowerCase()] ?? repo;
}

/** Whether a local tree is something pip installs (it has a pyproject.toml, setup.cfg or setup.py). */
export function isPythonProject(dir: string): boolean {
  return ['pyproject.toml', 'setup.cfg', 'setup.py'].some((f) => existsSync(join(dir, f)));
}

/** `[project] name` of pyproject.toml (or Poetry's), else `[metadata] name` of setup.cfg, in a local tree. */
export function nameFromPythonProject(dir: string): string | undefined {
  const pyproject = join(dir, 'pyproject.toml');
  if (existsSync(pyproject)) {
    const data = parseTomlFile(pyproject);
    const project = data?.project as { name?: unknown } | undefined;
    const poetry = (data?.tool as { poetry?: { name?: unknown } } | undefined)?.poetry;
    const name = project?.name ?? poetry?.name;
    if (typeof name === 'string' && name) return name;
  }
  const setupCfg = join(dir, 'setup.cfg');
  if (existsSync(setupCfg)) return iniValue(readFileSync(setupCfg, 'utf8'), 'metadata', 'name');
  return undefined;
}

function parseTomlFile(file: string): Record<string, unknown> | undefined {
  try {
    return parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // A broken pyproject.toml is the build's to report; here it only means "name unknown".
    return undefined;
  }
}

// One `key = value` of one section of an INI file (setup.cfg), as setuptools and pbr read it: keys
// in any case, the value on the key's line or indented on the next.
function iniValue(text: string, section: string, key: string): string | undefined {
  let current = '';
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = header[1]!.trim().toLowerCase();
      continue;
    }
    if (current !== section) continue;
    const pair = /^([A-Za-z_-]+)\s*[=:]\s*(.*)$/.exec(line);
    if (!pair || pair[1]!.toLowerCase() !== key) continue;
    const value =
      pair[2] || (/^\s+\S/.test(lines[index + 1] ?? '') ? lines[index + 1]!.trim() : '');
    const name = /^["']?([A-Za-z0-9][A-Za-z0-9._-]*)["']?$/.exec(value);
    return name?.[1];
  }
  return undefined;
}
