import { ConfigurationError } from './errors.js';

/**
 * The one glob dialect of every pattern the toolkit takes (branch and ref filters, snap file
 * names): GitHub's workflow filters', as in `on.push.branches`. `*` matches within one path
 * segment, `**` across segments, `?` one character, `[...]` a class (`[!...]` or `[^...]` its
 * complement); names starting with a dot match too; there are no braces or extglobs, and
 * parentheses and braces are plain characters. A pattern that does not compile is the user's to
 * fix, and is refused when it is read, before anything runs.
 *
 * Matching walks the pattern and the value together, keeping the set of pattern positions still
 * alive: O(pattern x value) for any pattern, where a regular expression with many stars
 * backtracks exponentially (a 40-character pattern took minutes a ref).
 */
export function globMatcher(pattern: string, what: string): (value: string) => boolean {
  const tokens = compile(pattern, what);
  return (value) => matches(tokens, value);
}

type Token =
  | { readonly kind: 'char'; readonly char: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'star' }
  | { readonly kind: 'globstar' }
  | { readonly kind: 'class'; readonly test: (c: string) => boolean };

function compile(pattern: string, what: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) tokens.push({ kind: 'char', char: pattern[++i]! });
    else if (c === '*') {
      if (pattern[i + 1] === '*') {
        while (pattern[i + 1] === '*') i++;
        tokens.push({ kind: 'globstar' });
      } else tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'one' });
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0)
        throw new ConfigurationError(
          `${what} '${pattern}' is not a glob pattern (a '[' with no ']'); ` +
            `use * within a path segment, ** across segments, ? for one character.`,
        );
      tokens.push(characterClass(pattern.slice(i + 1, end)));
      i = end;
    } else tokens.push({ kind: 'char', char: c });
  }
  return tokens;
}

function characterClass(body: string): Token {
  const negate = body[0] === '!' || body[0] === '^';
  const chars = negate ? body.slice(1) : body;
  const ranges: [string, string][] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i + 1] === '-' && i + 2 < chars.length) {
      ranges.push([chars[i]!, chars[i + 2]!]);
      i += 2;
    } else ranges.push([chars[i]!, chars[i]!]);
  }
  const inside = (c: string): boolean => ranges.some(([from, to]) => c >= from && c <= to);
  return { kind: 'class', test: (c) => c !== '/' && inside(c) !== negate };
}

function matches(tokens: readonly Token[], value: string): boolean {
  // alive[k]: the first k tokens have matched what has been read so far.
  let alive = new Uint8Array(tokens.length + 1);
  alive[0] = 1;
  // Stars match nothing as well: a live position before a star is live after it too.
  const close = (set: Uint8Array): void => {
    for (let k = 0; k < tokens.length; k++) {
      const kind = tokens[k]!.kind;
      if (set[k] && (kind === 'star' || kind === 'globstar')) set[k + 1] = 1;
    }
  };
  close(alive);
  for (const c of value) {
    const next = new Uint8Array(tokens.length + 1);
    for (let k = 0; k < tokens.length; k++) {
      if (!alive[k]) continue;
      const token = tokens[k]!;
      switch (token.kind) {
        case 'char':
          if (token.char === c) next[k + 1] = 1;
          break;
        case 'one':
          if (c !== '/') next[k + 1] = 1;
          break;
        case 'class':
          if (token.test(c)) next[k + 1] = 1;
          break;
        case 'star':
          if (c !== '/') next[k] = 1;
          break;
        case 'globstar':
          next[k] = 1;
          break;
      }
    }
    close(next);
    alive = next;
  }
  return alive[tokens.length] === 1;
}
