import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { checkGitUrl, ConfigurationError, globMatcher, redactUrl } from '../platform/index.js';

/** One repository to mirror. */
export interface MirrorPair {
  readonly source: string;
  readonly destination: string;
  /** A stable, filesystem-safe name for the pair (cache keys, bare copy directories, logs). */
  readonly slug: string;
  /**
   * This repository's own dispatch setting: a workflow file to start for changed release
   * branches, `none` for never (a repository without the workflow, like openstack/requirements),
   * or undefined for the action's `dispatch-workflow`.
   */
  readonly dispatch?: string;
}

/** A pair as written, before it is checked. */
type RawPair = [source: string, destination: string, dispatch?: string];

/**
 * Reads the repos input: a YAML list of `{source, destination}`, a YAML map `source: destination`,
 * or one `source -> destination` a line; or a path to a file holding any of those. `confine`
 * checks a file's path before it is read (the settings keep it inside the workspace). Errors
 * about a file's entries name the entry, never quote it: a file's content stays out of logs.
 */
export function parseMirrorPairs(
  input: string,
  cwd = process.cwd(),
  confine: (path: string) => string = (path) => path,
): MirrorPair[] {
  const trimmed = input.trim();
  if (!trimmed)
    throw new ConfigurationError(
      `'repos' is empty: give 'source -> destination' pairs, one a line.`,
    );
  const fileCandidate =
    !trimmed.includes('\n') && !trimmed.includes('->') ? resolvePath(trimmed, cwd, confine) : null;
  const text = fileCandidate ? readFileSync(fileCandidate, 'utf8') : trimmed;
  const quote = !fileCandidate;
  const where = fileCandidate ? `${trimmed}: ` : '';
  const pairs: RawPair[] = text.includes('->')
    ? parseArrowLines(text, where)
    : parseYamlPairs(text, where, quote);
  if (pairs.length === 0) throw new ConfigurationError(`${where}'repos' lists no repositories.`);
  const seen = new Map<string, string>();
  return pairs.map(([source, destination, dispatch], index) => {
    checkGitUrl(source, `${where}repos entry ${index + 1} source`, quote);
    checkGitUrl(destination, `${where}repos entry ${index + 1} destination`, quote);
    if (dispatch !== undefined)
      checkWorkflow(dispatch, `${where}repos entry ${index + 1} dispatch`, quote);
    const previous = seen.get(destination);
    if (previous !== undefined) {
      throw new ConfigurationError(
        `${where}repos entries ${previous} and ${index + 1} both write to ${quote ? redactUrl(destination) : 'one destination'}; one destination, one source.`,
      );
    }
    seen.set(destination, String(index + 1));
    return {
      source,
      destination,
      slug: slugOf(source, destination),
      ...(dispatch !== undefined ? { dispatch } : {}),
    };
  });
}

function resolvePath(value: string, cwd: string, confine: (path: string) => string): string | null {
  if (!/\.(ya?ml|txt|list)$/.test(value) || /\s/.test(value)) return null;
  const path = confine(value.startsWith('/') ? value : `${cwd}/${value}`);
  return existsSync(path) ? path : null;
}

// `source -> destination`, optionally followed by `dispatch=<workflow file>` or `dispatch=none`.
function parseArrowLines(text: string, where: string): RawPair[] {
  const pairs: RawPair[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const match = /^(\S+)\s*->\s*(\S+)(?:\s+dispatch=(\S+))?$/.exec(line);
    if (!match) {
      throw new ConfigurationError(
        `${where}repos line ${index + 1} is not 'source -> destination' (optionally followed by dispatch=<workflow> or dispatch=none).`,
      );
    }
    pairs.push(match[3] === undefined ? [match[1]!, match[2]!] : [match[1]!, match[2]!, match[3]]);
  });
  return pairs;
}

function parseYamlPairs(text: string, where: string, quote: boolean): RawPair[] {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new ConfigurationError(
      `${where}'repos' is neither 'source -> destination' lines nor valid YAML` +
        (quote ? `: ${String(error).split('\n')[0]}` : '.'),
    );
  }
  if (Array.isArray(data)) {
    return data.map((entry, index) => {
      const item = entry as { source?: unknown; destination?: unknown; dispatch?: unknown } | null;
      if (!item || typeof item.source !== 'string' || typeof item.destination !== 'string') {
        throw new ConfigurationError(
          `${where}repos item ${index + 1} needs 'source' and 'destination' strings.`,
        );
      }
      if (item.dispatch === undefined) return [item.source, item.destination];
      const dispatch = item.dispatch === false ? 'none' : item.dispatch;
      if (typeof dispatch !== 'string')
        throw new ConfigurationError(
          `${where}repos item ${index + 1}: 'dispatch' is a workflow file name, or none.`,
        );
      return [item.source, item.destination, dispatch];
    });
  }
  if (data && typeof data === 'object') {
    return Object.entries(data as Record<string, unknown>).map(([source, destination], index) => {
      if (typeof destination !== 'string') {
        throw new ConfigurationError(
          `${where}repos entry ${index + 1} needs a destination URL as its value.`,
        );
      }
      return [source, destination];
    });
  }
  throw new ConfigurationError(
    `${where}'repos' must list pairs: 'source -> destination' lines, a YAML list or a YAML map.`,
  );
}

/** A workflow file name (snap.yml) or id, or `none`: nothing that could leave the workflows path. */
export function checkWorkflow(value: string, what: string, quote = true): string {
  if (value !== 'none' && !/^([A-Za-z0-9_.-]+\.ya?ml|\d+)$/.test(value)) {
    throw new ConfigurationError(
      `${what}${quote ? ` ('${value}')` : ''} is not a workflow file name in .github/workflows (e.g. snap.yml), a workflow id, or none.`,
    );
  }
  return value;
}

function slugOf(source: string, destination: string): string {
  const name = (
    source
      .replace(/\.git\/?$/, '')
      .split(/[/:]/)
      .filter(Boolean)
      .at(-1) ?? 'repo'
  ).replace(/[^A-Za-z0-9._-]/g, '_');
  const hash = createHash('sha256').update(`${source}\n${destination}`).digest('hex').slice(0, 12);
  return `${name}-${hash}`;
}

/** Ref namespaces that are never mirrored: review refs, notes, and GitHub's read-only pull refs. */
const FORBIDDEN = [/^refs\/changes\//, /^refs\/notes\//, /^refs\/pull\//, /^refs\/meta\//];

/** Which refs to mirror: glob patterns over full ref names, `!pattern` to leave refs out. */
export interface RefFilter {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  matches(ref: string): boolean;
  /**
   * Patterns that end in a lone `*` right under refs/heads/ or refs/tags/: in the glob dialect
   * `*` stops at '/', so these leave out stable/2025.1 and its kind; the settings say so.
   */
  readonly topLevelOnly: readonly string[];
}

export const DEFAULT_REF_PATTERNS = ['refs/heads/**', 'refs/tags/**'];

export function parseRefFilter(words: readonly string[]): RefFilter {
  const patterns = words.length > 0 ? words : DEFAULT_REF_PATTERNS;
  const include: string[] = [];
  const exclude: string[] = [];
  for (const raw of patterns) {
    const word = raw === 'branches' ? 'refs/heads/**' : raw === 'tags' ? 'refs/tags/**' : raw;
    const negated = word.startsWith('!');
    const pattern = negated ? word.slice(1) : word;
    if (!/^refs\/(heads|tags)\/\S*$/.test(pattern)) {
      throw new ConfigurationError(
        `'refs' pattern '${raw}' is not under refs/heads/ or refs/tags/ (branches and tags are all that is mirrored; ` +
          `refs/changes, refs/notes and refs/pull never are).`,
      );
    }
    (negated ? exclude : include).push(pattern);
  }
  if (include.length === 0) include.push(...DEFAULT_REF_PATTERNS);
  const inc = include.map((p) => globMatcher(p, `'refs' pattern`));
  const exc = exclude.map((p) => globMatcher(p, `'refs' pattern`));
  return {
    include,
    exclude,
    matches: (ref) =>
      !FORBIDDEN.some((f) => f.test(ref)) &&
      inc.some((matches) => matches(ref)) &&
      !exc.some((matches) => matches(ref)),
    topLevelOnly: include.filter((p) => /^refs\/(heads|tags)\/\*$/.test(p)),
  };
}
