import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where a name to exclude from the constraints came from, for the summary. */
export interface ProjectName {
  readonly name: string;
  readonly from: string;
}

// tarballs.openstack.org/keystone/keystone-stable-ocata.tar.gz, nova-master.tar.gz, tempest-14.0.0.tar.gz
const TARBALL =
  /\/([A-Za-z0-9_.]+?(?:-[A-Za-z][A-Za-z0-9_.]*?)*?)-(?:stable-[A-Za-z0-9.]+|master|\d[A-Za-z0-9.]*)\.(?:tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$/;

/**
 * The distribution name a python part's source (or a URL in python-packages) installs, where it
 * can be told without fetching it: a `#egg=` fragment, an OpenStack tarball name, a git repo name,
 * or the setup.cfg / pyproject.toml of a local source.
 */
export function nameFromSource(
  source: string,
  projectDir: string,
  subdir = '',
): string | undefined {
  const egg = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(source);
  if (egg) return egg[1];
  if (/^[a-z+]+:\/\//i.test(source) || source.startsWith('git@')) {
    const url = source.replace(/[#?].*$/, '');
    const tarball = TARBALL.exec(url);
    if (tarball) return tarball[1];
    const repo = /\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url);
    if (
      repo &&
      (source.startsWith('git') || url.endsWith('.git') || /github\.com|opendev\.org/.test(url))
    ) {
      return repo[1];
    }
    return undefined;
  }
  const dir = resolve(projectDir, source, subdir);
  return nameFromPythonProject(dir);
}

/** `[project] name` of pyproject.toml, else `[metadata] name` of setup.cfg, in a local tree. */
export function nameFromPythonProject(dir: string): string | undefined {
  const pyproject = join(dir, 'pyproject.toml');
  if (existsSync(pyproject)) {
    const name = iniValue(readFileSync(pyproject, 'utf8'), 'project', 'name');
    if (name) return name;
  }
  const setupCfg = join(dir, 'setup.cfg');
  if (existsSync(setupCfg)) {
    return iniValue(readFileSync(setupCfg, 'utf8'), 'metadata', 'name');
  }
  return undefined;
}

// Enough of INI/TOML to read one `key = value` of one section; both files keep `name` simple.
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
    const pair = new RegExp(`^${key}\\s*=\\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)["']?\\s*$`).exec(
      line,
    );
    if (pair) return pair[1];
  }
  return undefined;
}
