/**
 * platform/: what every domain stands on. The one process funnel (exec), the one error taxonomy,
 * the git and lxc clients over the funnel, retries, redaction, and the cache interfaces with
 * their directory implementations.
 */
export type { FileCache, PrefixCache } from './cache.js';
export { unifiedDiff } from './diff.js';
export { DirectoryCache } from './dir-cache.js';
export {
  Bug,
  ConfigurationError,
  ExternalError,
  ToolError,
  errorKind,
  errorMessage,
  isRetryable,
  batchError,
  itemFailure,
} from './errors.js';
export type { ErrorKind, ItemFailure } from './errors.js';
export { MissingProgramError, asRoot, exec, execOk, lastLines } from './exec.js';
export { NO_AUTH, basicAuthHeader, basicAuthorization, extraHeaderAuth } from './git-auth.js';
export type { GitAuth } from './git-auth.js';
export { Git } from './git.js';
export { checkGitUrl, looksLikeGitUrl } from './git-url.js';
export { globMatcher } from './glob.js';
export { escapeHtml } from './html.js';
export { Lxd } from './lxd.js';
export { confinePath } from './paths.js';
export type { PathRoots } from './paths.js';
export { mapConcurrent, slots } from './pool.js';
export { redactor, redactUrl } from './redact.js';
export { withRetries } from './retry.js';
export type { RetryPolicy } from './retry.js';
