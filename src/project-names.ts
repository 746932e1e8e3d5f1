import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';

/** Where a name to exclude from the constraints came from, for the summary. */
export interface ProjectName {
  readonly name: string;
  readonly from: string;
}

// A file name of a source archive or a wheel, and the project name at its front:
// keystone-stable-ocata.tar.gz, nova-master.tar.gz, tempest-14.0.0.tar.gz,
// python_openstackclient-7.1.5.tar.gz (an sdist), osc_lib-3.0.0-py3-none-any.whl.
const ARCHIVE = /\.(tar\.gz|tgz|tar\.bz2|tar\.xz|zip|whl)$/;
const NAMED_ARCHIVE =
  /^([A-Za-z0-9_.]+?(?:-[A-Za-z][A-Za-z0-9_.]*?)*?)-(?:stable-[A-Za-z0-9.]+|master|main|v?\d[A-Za-z0-9.+!_-]*)\.(?:tar\.gz|tgz|tar\.bz2|tar\.xz|zip|whl)$/;

// A forge's archive of a repository at a ref: the repository names the project, not the file
// (github.com/openstack/python-openstackclient/archive/refs/tags/7.1.5.tar.gz is 7.1.5.tar.gz).
const FORGE_ARCHIVE = [
  /^\/([^/]+)\/([^/]+)\/archive\//, // GitHub, Gitea and Forgejo (opendev.org)
  /^\/([^/]+)\/([^/]+)\/-\/archive\//, // GitLab
];
const CODELOAD = /^\/([^/]+)\/([^/]+)\/(?:tar\.gz|zip|legacy\.tar\.gz|legacy\.zip)\//; // codeload.github.com

/**
 * The distribution name a python part's source (or an entry of python-packages) installs, where it
 * can be told without fetching it: a `#egg=` fragment; a forge's archive URL or a git URL (pip's
 * `git+https://host/org/repo@ref` included) by its repository; an archive or wheel by its file
 * name; a local tree by its pyproject.toml or setup.cfg. Undefined when it cannot be told: the
 * caller warns rather than guesses.
 */
export function nameFromSource(
  source: string,
  projectDir: string,
  subdir = '',
): string | undefined {
  const egg = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(source);
  if (egg) return egg[1];
  const scp = /^[\w.-]+@[\w.-]+:(?:[^/]+\/)*([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(source);
  if (scp) return scp[1];
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    return nameFromPythonProject(resolve(projectDir, source, subdir));
  }
  let url: URL;
  try {
    url = new URL(source.replace(/^(git|hg|svn|bzr)\+/, ''));
  } catch {
    return undefined;
  }
  // pip's VCS form pins a ref after the path: git+https://opendev.org/openstack/osc-lib@stable/2024.2
  const vcs = /^(git|hg|svn|bzr)\+/.test(source) || url.protocol === 'git:';
  const path = decodeURIComponent(url.pathname);
  for (const pattern of url.hostname === 'codeload.github.com' ? [CODELOAD] : FORGE_ARCHIVE) {
    const match = pattern.exec(path);
    if (match) return match[2];
  }
  const file = path.split('/').filter(Boolean).at(-1) ?? '';
  if (!vcs && ARCHIVE.test(file)) return NAMED_ARCHIVE.exec(file)?.[1];
  const repoPath = vcs ? path.replace(/@[^/]*(\/.*)?$/, '') : path;
  const repo = /\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(repoPath);
  if (
    repo &&
    (vcs || path.endsWith('.git') || /(^|\.)(github\.com|opendev\.org)$/.test(url.hostname))
  ) {
    return repo[1];
  }
  return undefined;
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

// One `key = value` of one section of an INI file (setup.cfg), as setuptools and pbr read it.
function iniValue(text: string, section: string, key: string): string | undefined {
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = header[1]!.trim();
      continue;
    }
    if (current !== section) continue;
    const pair = new RegExp(`^${key}\\s*[=:]\\s*([A-Za-z0-9][A-Za-z0-9._-]*)\\s*$`).exec(line);
    if (pair) return pair[1];
  }
  return undefined;
}
