import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { ConfigurationError, errorMessage, ExternalError } from '../platform/index.js';

export type GitHubClient = ReturnType<typeof getOctokit>;

/**
 * An Octokit for GitHub's REST API at `apiUrl` that waits out rate limits, primary and secondary
 * (honouring retry-after), up to `retries` times each, and retries server errors; 4xx answers
 * other than rate limits are the caller's to read.
 */
export function githubClient(
  token: string,
  apiUrl: string,
  log: (line: string) => void = () => {},
  retries = 3,
): GitHubClient {
  const onLimit =
    (kind: string) =>
    (after: number, request: { method: string; url: string }, _octokit: unknown, count: number) => {
      log(`GitHub ${kind} rate limit on ${request.method} ${request.url}; waiting ${after} s`);
      return count < retries;
    };
  return getOctokit(
    token,
    {
      baseUrl: apiUrl,
      throttle: { onRateLimit: onLimit('primary'), onSecondaryRateLimit: onLimit('secondary') },
      retry: { retries, doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451] },
    },
    throttling,
    retry,
  );
}

/** `owner/name` of GITHUB_REPOSITORY-style text; anything else is refused. */
export function parseRepository(text: string, what: string): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(text.trim());
  if (!match || match[1]!.startsWith('.') || match[2]!.startsWith('.')) {
    throw new ConfigurationError(`${what} ('${text}') is not owner/name.`);
  }
  return { owner: match[1]!, repo: match[2]! };
}

/** The commit a branch points at now, or null when it does not exist. */
export async function branchTip(
  client: GitHubClient,
  repository: { owner: string; repo: string },
  branch: string,
): Promise<string | null> {
  try {
    const { data } = await client.rest.git.getRef({ ...repository, ref: `heads/${branch}` });
    return data.object.sha;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw new ExternalError(
      `cannot read ${repository.owner}/${repository.repo} ${branch}: ${errorMessage(error)}`,
      { cause: error, retryable: retryableStatus((error as { status?: number }).status) },
    );
  }
}

/** An HTTP status worth another try: 5xx and 429; no status at all means no answer came. */
function retryableStatus(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 429;
}
