import { describe, expect, it } from '@jest/globals';
import { globMatcher } from '../src/platform/glob.js';
import { ConfigurationError } from '../src/platform/errors.js';

describe('the one glob dialect (GitHub branch filters)', () => {
  const matches = (pattern: string, value: string) => globMatcher(pattern, 'pattern')(value);
  it('stops * at a slash, crosses with **, and takes ? as one character', () => {
    expect(matches('stable/*', 'stable/2025.1')).toBe(true);
    expect(matches('stable/*', 'stable/a/b')).toBe(false);
    expect(matches('refs/heads/**', 'refs/heads/stable/2025.1')).toBe(true);
    expect(matches('?table/*', 'stable/x')).toBe(true);
    expect(matches('*-eol', '2024.1-eol')).toBe(true);
    expect(matches('*.snap', '.hidden.snap')).toBe(true);
  });
  it('has no braces or extglobs: parentheses and braces are plain characters, escaped or not', () => {
    expect(matches('{a,b}', 'a')).toBe(false);
    expect(matches('{a,b}', '{a,b}')).toBe(true);
    expect(matches('@(a|b)', 'a')).toBe(false);
    expect(matches('refs/heads/$(x)', 'refs/heads/$(x)')).toBe(true);
    expect(matches('refs/heads/\\(', 'refs/heads/(')).toBe(true);
    expect(matches('a(b', 'a(b')).toBe(true);
  });
  it('refuses a pattern that does not compile, saying what to use', () => {
    expect(() => globMatcher('stable/[2025', "'refs' pattern")).toThrow(ConfigurationError);
    expect(() => globMatcher('stable/[2025', "'refs' pattern")).toThrow(
      /'refs' pattern 'stable\/\[2025' is not a glob pattern/,
    );
  });
});

describe('matching costs pattern x value, whatever the stars', () => {
  const matches = (pattern: string, value: string) => globMatcher(pattern, 'pattern')(value);
  it('agrees with the dialect on what a regular expression backtracks on exponentially', () => {
    // 40 characters of alternating stars: a backtracking matcher tries ~2^20 splits of the ref.
    const pattern = `refs/${'*a'.repeat(17)}b`;
    const ref = `refs/${'a'.repeat(60)}`;
    expect(pattern.length).toBe(40);
    expect(matches(pattern, ref)).toBe(false);
    expect(matches(pattern, `${ref}b`)).toBe(true);
    expect(matches(`refs/**${'*a'.repeat(15)}`, `refs/x/y/${'a'.repeat(50)}`)).toBe(true);
  });
  it('takes classes, their complements and ranges, never across a slash', () => {
    expect(matches('stable/202[4-5].[12]', 'stable/2025.1')).toBe(true);
    expect(matches('stable/202[!4].*', 'stable/2024.1')).toBe(false);
    expect(matches('a[/]b', 'a/b')).toBe(false);
  });
});
