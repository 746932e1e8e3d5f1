import { ExternalError, Git, type GitAuth, lastLines } from '../platform/index.js';
import { gitFor, type Link } from './copy.js';

/** Listing the two ends through git, and whether git would reach them another way than this process. */
/**
 * Why git would reach a URL by another way than this process's own HTTP client, if it would: a
 * proxy, or git configuration that rewrites URLs or sets HTTP options (system, global, or
 * GIT_CONFIG_* in the environment). Then every pair goes through git. (TLS that git is told to
 * trust differently fails here and falls back to git; it cannot reach another server.)
 */
export async function gitWouldDiffer(cwd: string): Promise<string | null> {
  const env = Object.keys(process.env).find((name) =>
    /^(https?_proxy|all_proxy|git_proxy_command)$/i.test(name),
  );
  if (env && process.env[env]) return `${env} is set`;
  const config = await new Git({ cwd }).exec([
    'config',
    '--get-regexp',
    '^(http\\..*|url\\..*insteadof)$',
  ]);
  const key = config.stdout.split('\n').find(Boolean)?.split(' ')[0];
  return key ? `git config has ${key}` : null;
}

/**
 * Branches and tags of a remote (tags as their tag objects: that is what gets pushed). Run in
 * `cwd` (the work dir, no repository), so no repository's own config (a workspace checkout's
 * extraheader) takes part, as in the in-process path's gate.
 */
export async function listRefs(
  url: string,
  auth: GitAuth,
  cwd: string,
  link: Link,
): Promise<Map<string, string>> {
  const result = await gitFor(link, cwd, auth).exec([
    'ls-remote',
    '--',
    url,
    'refs/heads/*',
    'refs/tags/*',
  ]);
  if (result.code !== 0)
    throw new ExternalError(lastLines(result.stderr) || `git ls-remote exited ${result.code}`);
  const refs = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const [id, ref] = line.split('\t');
    if (id && ref && !ref.endsWith('^{}')) refs.set(ref, id);
  }
  return refs;
}
