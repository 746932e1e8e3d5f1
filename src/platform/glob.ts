import picomatch from 'picomatch';
import { ConfigurationError } from './errors.js';

/**
 * The one glob dialect of every pattern the toolkit takes (branch and ref filters, snap file
 * names), by one library: GitHub's workflow filters', as in `on.push.branches`. `*` matches
 * within one path segment, `**` across segments, `?` one character, `[...]` a class; names
 * starting with a dot match too. A pattern that does not compile is the user's to fix, and is
 * refused when it is read, before anything runs.
 */
export function globMatcher(pattern: string, what: string): (value: string) => boolean {
  let re: RegExp;
  try {
    re = picomatch.makeRe(literalParentheses(pattern), {
      dot: true,
      strictBrackets: true,
      nonegate: true,
      // GitHub's filters have no braces or extglobs; parentheses and braces are literal.
      nobrace: true,
      noextglob: true,
    });
  } catch (error) {
    throw new ConfigurationError(
      `${what} '${pattern}' is not a glob pattern (${(error as Error).message}); ` +
        `use * within a path segment, ** across segments, ? for one character.`,
    );
  }
  return (value) => re.test(value);
}

/** Parentheses are plain characters in GitHub's filters: escaped, unless they already are. */
function literalParentheses(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      out += c + pattern[++i];
      continue;
    }
    out += c === '(' || c === ')' ? `\\${c}` : c;
  }
  return out;
}
