/**
 * Credentials for git over HTTPS as environment, never argv or a config file: git reads
 * `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` (git 2.31+) as if they were config.
 * The header is scoped to the URL's origin, so a source on another host never sees the token.
 */
export interface GitAuth {
  readonly env: Readonly<Record<string, string>>;
  /** The token and every form derived from it, for the caller to mask in logs. */
  readonly secrets: readonly string[];
}

export const NO_AUTH: GitAuth = { env: {}, secrets: [] };

/** The `Authorization` value for a GitHub token over HTTPS (as git sends it). */
export function basicAuthorization(token: string): string {
  return `basic ${Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64')}`;
}

export function basicAuthHeader(token: string): string {
  return `AUTHORIZATION: ${basicAuthorization(token)}`;
}

/**
 * An extraheader for one http(s) origin, or (`repository`) for that one repository's URL, which
 * a command that also talks to another repository on the same host needs; other URLs (ssh, git,
 * file) get nothing.
 */
export function extraHeaderAuth(
  url: string,
  token: string | undefined,
  base: NodeJS.ProcessEnv = process.env,
  scope: 'origin' | 'repository' = 'origin',
): GitAuth {
  if (!token) return NO_AUTH;
  const origin = /^(https?:\/\/[^/]+\/)/i.exec(url);
  if (!origin) return NO_AUTH;
  const match = scope === 'origin' ? origin : [url, url.replace(/\/+$/, '')];
  const header = basicAuthHeader(token);
  // Keep any GIT_CONFIG_* entries the environment already carries; append ours after them.
  const index = Number.parseInt(base.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  return {
    env: {
      GIT_CONFIG_COUNT: String(index + 1),
      [`GIT_CONFIG_KEY_${index}`]: `http.${match[1]}.extraheader`,
      [`GIT_CONFIG_VALUE_${index}`]: header,
    },
    secrets: [token, header.slice('AUTHORIZATION: basic '.length), header],
  };
}
