import { ConfigurationError } from './errors.js';
import { redactUrl } from './redact.js';

const SCHEME_URL = /^(https?|git|ssh|file):\/\/([^/?#]*)(\S*)$/i;
const SCP_LIKE = /^[A-Za-z0-9_][\w.-]*@[\w.-]+:\S+$/;

/** Whether `value` has the form of a git URL: a scheme URL or ssh's `user@host:path`. */
export function looksLikeGitUrl(value: string): boolean {
  return SCHEME_URL.test(value) || SCP_LIKE.test(value);
}

/**
 * A remote git URL as every git call may receive it, or one error saying what to change: no
 * whitespace, nothing git could read as an option (a leading '-'), and no credentials in it
 * (git would carry them on its command line and in its messages): the token travels in the
 * environment instead. An ssh login name (`git@host:path`, `ssh://git@host/path`) is not a
 * credential and stays.
 */
export function checkGitUrl(url: string, what: string, quote = true): string {
  const shown = quote ? ` ('${redactUrl(url)}')` : '';
  if (url.startsWith('-') || /\s/.test(url)) {
    throw new ConfigurationError(
      `${what} starts with '-' or has spaces, so git would read it as an option; give a git URL.`,
    );
  }
  const scheme = SCHEME_URL.exec(url);
  if (!scheme && !SCP_LIKE.test(url)) {
    throw new ConfigurationError(
      `${what}${shown} is not a git URL (https://, ssh://, git://, file:// or user@host:path).`,
    );
  }
  const authority = scheme?.[2] ?? '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  if (authority.slice(at + 1).startsWith('-')) {
    throw new ConfigurationError(
      `${what} has a host starting with '-', which ssh would read as an option; give a git URL.`,
    );
  }
  if (userinfo && (scheme![1]!.toLowerCase() !== 'ssh' || userinfo.includes(':'))) {
    throw new ConfigurationError(
      `${what} has credentials in its URL${shown}; remove them and pass the token through the 'token' input.`,
    );
  }
  return url;
}
