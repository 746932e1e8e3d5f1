import { lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigurationError } from './errors.js';

/** Where path inputs may point: the job's workspace, and the runner's temporary directory. */
export interface PathRoots {
  readonly workspace: string;
  readonly temp?: string;
}

/**
 * A path input resolved against the workspace and kept inside the workspace or the runner's temp
 * directory: `..` and symbolic links that leave them are refused, so an input can neither read
 * nor write anything else on the runner. `absoluteOutside` lets an absolute path go anywhere, for
 * the one kind of input whose purpose is to live outside every job (a self-hosted runner's
 * persistent cache-dir); a relative one still stays inside.
 */
export function confinePath(
  value: string,
  what: string,
  roots: PathRoots,
  options: { readonly absoluteOutside?: boolean } = {},
): string {
  const path = resolve(roots.workspace, value);
  if (options.absoluteOutside && isAbsolute(value)) return path;
  const real = realpathOfNearest(path);
  if (real === null) {
    throw new ConfigurationError(
      `${what} ('${value}') is, or is under, a symbolic link to nothing; give a real path.`,
    );
  }
  const allowed = [roots.workspace, roots.temp].filter((r): r is string => !!r);
  if (allowed.some((root) => isInside(real, realpathOfNearest(resolve(root)) ?? root))) return path;
  throw new ConfigurationError(
    `${what} ('${value}') is outside the workspace and the runner's temp directory; ` +
      `give a path inside ${roots.workspace}${roots.temp ? ` or ${roots.temp}` : ''}.`,
  );
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The real path of `path`, or of its nearest existing ancestor with the rest appended; null when
 * that ancestor is a symbolic link to nothing (writing there would create its target, wherever).
 */
function realpathOfNearest(path: string): string | null {
  let existing = path;
  const rest: string[] = [];
  while (!lexists(existing) && dirname(existing) !== existing) {
    rest.unshift(existing.slice(dirname(existing).length).replace(/^\//, ''));
    existing = dirname(existing);
  }
  try {
    return join(realpathSync(existing), ...rest);
  } catch {
    return null;
  }
}

function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
