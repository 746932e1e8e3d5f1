import { isAlias, isScalar, isSeq, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { ConfigurationError } from './errors.js';
import {
  effectivePair,
  keyString,
  parseSnapcraftYaml,
  resolveNode,
  type SnapcraftProject,
} from './snapcraft-yaml.js';

/** A constraints entry this toolkit replaces: OpenStack's upper-constraints, any copy or URL of it. */
export function isUpperConstraintsEntry(entry: string): boolean {
  return (
    /(^|\/)upper-constraints\.txt$/.test(entry) ||
    /releases\.openstack\.org\/constraints\/upper\//.test(entry)
  );
}

/**
 * The openstack/requirements ref or series an upper-constraints URL names, or null for a local
 * file or an unknown form: raw.githubusercontent.com/openstack/requirements/<ref>/...,
 * opendev.org/openstack/requirements/raw/{branch,tag}/<ref>/..., ...?h=<ref> (cgit), and
 * releases.openstack.org/constraints/upper/<series>.
 */
export function constraintsEntryRef(entry: string): string | null {
  const patterns = [
    /\/openstack\/requirements\/(?:raw\/(?:branch|tag)\/)?((?:stable|unmaintained)\/[^/]+|[^/]+)\/upper-constraints\.txt$/,
    /requirements\/plain\/upper-constraints\.txt\?h=([^&#]+)/,
    /releases\.openstack\.org\/constraints\/upper\/([^/?#]+)/,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(entry);
    if (match) return decodeURIComponent(match[1]!).replace(/^refs\/(heads|tags)\//, '');
  }
  return null;
}

export interface RewriteResult {
  readonly text: string;
  readonly changed: boolean;
  /** Per python part, the entries it had and has now. */
  readonly parts: { name: string; before: string[]; after: string[] }[];
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Points every python part's constraints at `reference`, replacing OpenStack upper-constraints
 * entries (dead branch URLs included) and keeping any other constraints the user listed.
 *
 * Byte surgery, not parse-and-dump: only the constraints entries change, or a key is inserted on
 * lines of its own right after a one-line key of the part (`plugin:`), so no block scalar, comment
 * or blank line changes meaning; inserted lines use the file's line ending. Keys that come from an
 * anchor (`<<: *python-part`, or a whole part that is an alias) are edited where they are written,
 * once. The result is re-parsed and checked before it is returned.
 */
export function rewriteConstraints(project: SnapcraftProject, reference: string): RewriteResult {
  const { text, document, constraintsKey: key } = project;
  const root = document.contents as YAMLMap;
  const parts = root.get('parts', true) as unknown as YAMLMap;
  const edits: Edit[] = [];
  const edited = new Set<unknown>();
  const report: RewriteResult['parts'] = [];
  // Lists are what every base accepts; a bare string only the 2017-era legacy plugin took.
  const listsOnly = project.generation !== 'legacy';

  for (const pythonPart of project.pythonParts) {
    const before = pythonPart.constraints;
    const after = [
      reference,
      ...before.filter((e) => e !== reference && !isUpperConstraintsEntry(e)),
    ];
    report.push({ name: pythonPart.name, before, after });
    if (sameList(before, after)) continue;
    const part = resolveNode(parts.get(pythonPart.name, true), document) as YAMLMap;
    const pair = effectivePair(part, key, document);
    const target = pair ? (resolveNode(pair.value, document) ?? pair) : part;
    // A part that shares its map or its list through an anchor is edited there, once.
    if (edited.has(target)) continue;
    edited.add(target);
    if (!pair) {
      edits.push(insertKey(text, part, key, after));
      continue;
    }
    const value = resolveNode(pair.value, document);
    if (value === null || value === undefined || (isScalar(value) && (value.value ?? '') === '')) {
      // `key:` with no value: give it one on the same line.
      const keyStart = (pair.key as Node).range![0];
      edits.push({
        start: keyStart,
        end: lineEnd(text, keyStart),
        text: `${key}: ${flowList(after)}`,
      });
    } else if (isScalar(value)) {
      const [start, end] = value.range!;
      const replacement =
        after.length === 1 && !listsOnly ? plainOrQuoted(after[0]!) : flowList(after);
      edits.push({ start, end, text: replacement });
    } else if (isSeq(value) && value.flow) {
      const [start, end] = value.range!;
      edits.push({ start, end, text: flowList(after) });
    } else if (isSeq(value)) {
      edits.push(...blockSeqEdits(text, value, before, reference));
    } else {
      throw new ConfigurationError(
        `${project.file}: part '${pythonPart.name}': '${key}' must be a list of constraints files or URLs, not a mapping.`,
      );
    }
  }

  let result = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  const changed = result !== text;
  if (changed) verifyRewrite(project, result, reference);
  return { text: result, changed, parts: report };
}

// A new `key:` block in the part's own map: on the lines after a one-line key (plugin first),
// else before its first key, indented like its keys and lists.
function insertKey(text: string, part: YAMLMap, key: string, after: string[]): Edit {
  if (part.flow) {
    // `{plugin: python, source: .}`: one more entry before the closing brace.
    const close = text.lastIndexOf('}', part.range![1]);
    const empty = part.items.length === 0;
    return { start: close, end: close, text: `${empty ? '' : ', '}${key}: ${flowList(after)}` };
  }
  const first = part.items[0]?.key as Node | undefined;
  if (!first?.range)
    throw new ConfigurationError(`A python part has no keys; give it a 'plugin' and a 'source'.`);
  const firstLineStart = lineStart(text, first.range[0]);
  const indent = text.slice(firstLineStart, first.range[0]);
  if (!/^[ ]*$/.test(indent)) {
    throw new ConfigurationError(
      `A python part starts on the line of another key ('${text.slice(firstLineStart, first.range[0]).trim()}'); ` +
        `put its keys on lines of their own so '${key}' can be added.`,
    );
  }
  const eol = lineEnding(text, first.range[0]);
  const lines = [
    `${indent}${key}:`,
    ...after.map((e) => `${indent}${sequenceOffset(text, part) ?? '  '}- ${plainOrQuoted(e)}`),
  ];
  const oneLine = (pairKey: Node, value: unknown): boolean => {
    const end = isAlias(value) || isScalar(value) ? (value as Node).range?.[1] : undefined;
    return end !== undefined && !text.slice(pairKey.range![0], end).includes('\n');
  };
  const anchorPair =
    part.items.find((p) => keyString(p) === 'plugin' && oneLine(p.key as Node, p.value)) ??
    part.items.find((p) => oneLine(p.key as Node, p.value));
  if (anchorPair) {
    const at = lineEnd(text, (anchorPair.value as Node).range![1]);
    return { start: at, end: at, text: `${eol}${lines.join(eol)}` };
  }
  return { start: firstLineStart, end: firstLineStart, text: `${lines.join(eol)}${eol}` };
}

// Replace the first stale item in place, drop the other stale items' lines, or add ours on top.
function blockSeqEdits(text: string, seq: YAMLSeq, before: string[], reference: string): Edit[] {
  const edits: Edit[] = [];
  let placed = before.includes(reference);
  seq.items.forEach((item, index) => {
    const entry = before[index];
    if (!isScalar(item) || entry === undefined) return;
    const stale = entry !== reference && isUpperConstraintsEntry(entry);
    if (!stale) return;
    if (!placed) {
      edits.push({ start: item.range![0], end: item.range![1], text: plainOrQuoted(reference) });
      placed = true;
    } else {
      const start = lineStart(text, item.range![0]);
      const end = lineEnd(text, item.range![0]);
      edits.push({ start, end: text.startsWith('\r\n', end) ? end + 2 : end + 1, text: '' });
    }
  });
  if (!placed) {
    const first = seq.items[0] as Node;
    const start = lineStart(text, first.range![0]);
    const prefix = text.slice(start, first.range![0]);
    edits.push({
      start,
      end: start,
      text: `${prefix}${plainOrQuoted(reference)}${lineEnding(text, start)}`,
    });
  }
  return edits;
}

// How far the part's own block lists indent their dashes past the key: '  ' or ''.
function sequenceOffset(text: string, part: YAMLMap): string | undefined {
  for (const pair of part.items) {
    const value = pair.value;
    const key = pair.key as Node;
    if (isSeq(value) && !value.flow && value.items.length > 0 && key.range) {
      const item = value.items[0] as Node;
      const keyCol = key.range[0] - lineStart(text, key.range[0]);
      const dash = text.lastIndexOf('-', item.range![0]);
      const dashCol = dash - lineStart(text, dash);
      return ' '.repeat(Math.max(0, dashCol - keyCol));
    }
  }
  return undefined;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Where the line holding `offset` ends: before its `\r\n` or `\n`, or at the end of the text. */
function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  if (newline === -1) return text.length;
  return text[newline - 1] === '\r' ? newline - 1 : newline;
}

/** The line ending of the line holding `offset` (CRLF files stay CRLF); LF at the end of a file. */
function lineEnding(text: string, offset: number): string {
  const end = lineEnd(text, offset);
  if (text.startsWith('\r\n', end)) return '\r\n';
  if (end < text.length) return '\n';
  return text.includes('\r\n') ? '\r\n' : '\n';
}

function plainOrQuoted(value: string): string {
  return /^[A-Za-z0-9$/_.][A-Za-z0-9$/_.:+@%~-]*$/.test(value) && !/:\s|:$/.test(value)
    ? value
    : JSON.stringify(value);
}

function flowList(values: string[]): string {
  return `[${values.map((v) => (/[,[\]{}]/.test(v) ? JSON.stringify(v) : plainOrQuoted(v))).join(', ')}]`;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// The rewrite is byte surgery; prove it produced the YAML we meant before anything is written.
function verifyRewrite(project: SnapcraftProject, text: string, reference: string): void {
  const reparsed = parseSnapcraftYaml(text, project.file, project.projectDir);
  for (const part of reparsed.pythonParts) {
    if (part.constraints[0] !== reference) {
      throw new Error(
        `internal error: rewriting ${project.file} did not set part '${part.name}' to ${reference}`,
      );
    }
  }
}
