import { isDeepStrictEqual } from 'node:util';
import {
  isAlias,
  isScalar,
  isSeq,
  visit,
  type Document,
  type Node,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { ConfigurationError } from '../platform/index.js';
import { PYTHON_PLUGINS } from './generations.js';
import { parseSnapcraftYaml, type SnapcraftProject } from './yaml.js';
import { resolveNode } from './yaml-nodes.js';
import { effectivePair } from './yaml-nodes.js';
import { keyString } from './yaml-nodes.js';
import { scalarString } from './yaml-nodes.js';

/** A constraints entry this toolkit replaces: OpenStack's upper-constraints, any copy or URL of it. */
export function isUpperConstraintsEntry(entry: string): boolean {
  return (
    /(^|\/)upper-constraints\.txt(\?[^#\s]*)?$/.test(entry) ||
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
 * once; a constraints value that is an alias is replaced where the alias is, and a node other keys
 * share through an anchor is never edited (that is refused, saying so). The result is re-parsed
 * and proved to mean the same as the original apart from the constraints keys before it is
 * returned.
 */
export function rewriteConstraints(project: SnapcraftProject, reference: string): RewriteResult {
  const { text, document, constraintsKey: key } = project;
  const parts = resolveNode(
    effectivePair(document.contents as YAMLMap, 'parts', document)?.value,
    document,
  ) as YAMLMap;
  const edits: Edit[] = [];
  const edited = new Set<unknown>();
  const report: RewriteResult['parts'] = [];
  // snapcraft 2.43 (no base) takes one constraints file as a string; every later plugin a list.
  const oneString = PYTHON_PLUGINS[project.generation].fileValue === 'string';
  const shared = sharedAnchors(document);
  const refuseShared = (node: unknown, part: string): void => {
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor && shared.has(anchor)) {
      throw new ConfigurationError(
        `${project.file}: part '${part}': its '${key}' (or an entry of it) is the anchor &${anchor}, which other keys use too; ` +
          `rewriting it would change them: give the part a '${key}' list of its own.`,
      );
    }
  };

  for (const pythonPart of project.pythonParts) {
    const before = pythonPart.constraints;
    const kept = before.filter((e) => e !== reference && !isUpperConstraintsEntry(e));
    // Ours goes on top where it is missing; where the user already lists it, it stays where it is.
    const after = before.includes(reference)
      ? before.filter((e) => e === reference || !isUpperConstraintsEntry(e))
      : [reference, ...kept];
    report.push({ name: pythonPart.name, before, after });
    if (oneString && after.length > 1) {
      throw new ConfigurationError(
        `${project.file}: part '${pythonPart.name}' also lists ${after
          .slice(1)
          .map((e) => `'${e}'`)
          .join(', ')} in '${key}', but snapcraft 2.43 (no base) takes one constraints file, a ` +
          `string, and the toolkit's must be it: move those pins into the part's requirements.`,
      );
    }
    const partPair = parts.items.find((p) => keyString(p) === pythonPart.name)!;
    const part = resolveNode(partPair.value, document) as YAMLMap;
    const pair = effectivePair(part, key, document);
    // 2.43 refuses a list even of one entry: a list there is rewritten as the string.
    const wrongType = oneString && pair !== undefined && isSeq(resolveNode(pair.value, document));
    if (sameList(before, after) && !wrongType) continue;
    // A part that shares its map or its list through an anchor is edited there, once.
    const target = pair ?? part;
    if (edited.has(target)) continue;
    edited.add(target);
    const rendered = (values: string[]): string =>
      oneString ? plainOrQuoted(values[0]!) : flowList(values);
    if (!pair) {
      edits.push(insertKey(text, part, key, after, oneString));
      continue;
    }
    if (isAlias(pair.value)) {
      // `constraints: *uc`: the alias gives way to the new value; the anchor stays as it is.
      const [start, end] = pair.value.range!;
      edits.push({ start, end, text: rendered(after) });
      continue;
    }
    const value = pair.value;
    refuseShared(value, pythonPart.name);
    if (value === null || value === undefined || (isScalar(value) && (value.value ?? '') === '')) {
      // `key:`, `key: ~`, `key: null`: a value right there; the line's comment stays.
      const range = (value as Node | null)?.range;
      if (range && range[1] > range[0]) {
        edits.push({ start: range[0], end: range[1], text: rendered(after) });
      } else {
        const colon = text.indexOf(':', (pair.key as Node).range![1]);
        edits.push({ start: colon + 1, end: colon + 1, text: ` ${rendered(after)}` });
      }
    } else if (oneString && isSeq(value) && !value.flow && value.items.length > 0) {
      // A block list where 2.43 wants a string: the string goes after the key, the list's lines go.
      for (const item of value.items) refuseShared(item, pythonPart.name);
      const colon = text.indexOf(':', (pair.key as Node).range![1]);
      const last = value.items[value.items.length - 1] as Node;
      let end = last.range![1];
      while (end > last.range![0] && /\s/.test(text[end - 1]!)) end--;
      edits.push({ start: colon + 1, end: lineEnd(text, end - 1), text: ` ${rendered(after)}` });
    } else if (isScalar(value) || (oneString && isSeq(value))) {
      for (const item of isSeq(value) ? value.items : []) refuseShared(item, pythonPart.name);
      const [start, end] = value.range!;
      edits.push({ start, end, text: rendered(after) });
    } else if (isSeq(value) && value.flow) {
      // The other entries keep their own spelling (quotes included); only ours is written anew.
      const kept = value.items.filter((item) => {
        const entry = scalarString(resolveNode(item, document));
        return entry !== reference && !(entry && isUpperConstraintsEntry(entry));
      });
      for (const item of value.items) refuseShared(item, pythonPart.name);
      const [start, end] = value.range!;
      const keptText = kept.map((item) => {
        const [s, e] = (item as Node).range!;
        return text.slice(s, e);
      });
      edits.push({ start, end, text: `[${[plainOrQuoted(reference), ...keptText].join(', ')}]` });
    } else if (isSeq(value)) {
      edits.push(
        ...blockSeqEdits(text, value, reference, document, (n) => refuseShared(n, pythonPart.name)),
      );
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

/** Anchors that aliases use: a node carrying one is shared, and is not ours to edit in place. */
function sharedAnchors(document: Document): Set<string> {
  const used = new Set<string>();
  visit(document, {
    Alias(_key, node) {
      used.add(node.source);
    },
  });
  return used;
}

// A new `key:` block in the part's own map: on the lines after a one-line key (plugin first),
// else before its first key, indented like its keys and lists.
function insertKey(
  text: string,
  part: YAMLMap,
  key: string,
  after: string[],
  oneString: boolean,
): Edit {
  const value = oneString ? plainOrQuoted(after[0]!) : flowList(after);
  if (part.flow) {
    // `{plugin: python, source: .}`: one more entry before the closing brace (after a trailing
    // comma, if the map has one).
    const close = text.lastIndexOf('}', part.range![1]);
    const inside = text
      .slice(part.range![0] + 1, close)
      .replace(/#.*$/gm, '')
      .trim();
    const separator = inside === '' || inside.endsWith(',') ? ' ' : ', ';
    return { start: close, end: close, text: `${separator}${key}: ${value}` };
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
  const lines = oneString
    ? [`${indent}${key}: ${value}`]
    : [
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

/**
 * A block list: stale items' whole lines go (a folded or wrapped item is several lines), and ours
 * takes the place of the first of them, or goes on top, written with the list's own `- ` prefix
 * (an item's anchor or tag is the item's, not the prefix's).
 */
function blockSeqEdits(
  text: string,
  seq: YAMLSeq,
  reference: string,
  document: Document,
  refuseShared: (node: unknown) => void,
): Edit[] {
  const entries = seq.items.map((item) => scalarString(resolveNode(item, document)));
  const placed = entries.includes(reference);
  const stale = seq.items.filter((_, i) => {
    const entry = entries[i];
    return !!entry && entry !== reference && isUpperConstraintsEntry(entry);
  });
  for (const item of stale) refuseShared(item);
  const line = (item: unknown) => itemLines(text, item as Node);
  const ours = (at: number): string => {
    const prefix = /^[ \t]*-[ \t]+/.exec(text.slice(at))?.[0] ?? '- ';
    return `${prefix}${plainOrQuoted(reference)}${lineEnding(text, at)}`;
  };
  const edits: Edit[] = stale.map((item) => ({ ...line(item), text: '' }));
  if (!placed) {
    // On top: a stale first item gives its lines to ours; else ours goes before the first item.
    const first = line(seq.items[0]);
    const replacing = stale[0] === seq.items[0];
    if (replacing) edits[0] = { ...first, text: ours(first.start) };
    else edits.push({ start: first.start, end: first.start, text: ours(first.start) });
  }
  return edits;
}

/** The lines an item of a block list takes: from its dash to the end of its last line. */
function itemLines(text: string, item: Node): { start: number; end: number } {
  const [from, to] = item.range!;
  let last = to;
  while (last > from && /\s/.test(text[last - 1]!)) last--;
  const start = lineStart(text, from);
  const end = lineEnd(text, Math.max(from, last - 1));
  if (end < text.length) return { start, end: end + (text.startsWith('\r\n', end) ? 2 : 1) };
  // The file's last line, with no newline after it: take the newline before it instead.
  const before = start > 0 && text[start - 2] === '\r' ? 2 : 1;
  return { start: Math.max(0, start - before), end };
}

// How far the part's own block lists indent their dashes past the key: '  ' or ''.
function sequenceOffset(text: string, part: YAMLMap): string | undefined {
  for (const pair of part.items) {
    const value = pair.value;
    const key = pair.key as Node;
    if (isSeq(value) && !value.flow && value.items.length > 0 && key.range) {
      const item = value.items[0] as Node;
      const keyCol = key.range[0] - lineStart(text, key.range[0]);
      const itemLine = lineStart(text, item.range![0]);
      const dashCol = /^[ \t]*/.exec(text.slice(itemLine))![0].length;
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

// What YAML 1.1 (PyYAML, which snapcraft reads with) would not read back as the same string.
const YAML11_SPECIAL =
  /^(y|n|yes|no|true|false|on|off|null|~|[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]?\.(inf|nan)|0x[0-9a-f_]+|0o?[0-7_]+|\d+(:[0-5]?\d)+(\.\d*)?)$/i;

function plainOrQuoted(value: string): string {
  return /^[A-Za-z0-9$/_.][A-Za-z0-9$/_.:+@%~-]*$/.test(value) &&
    !/:\s|:$/.test(value) &&
    !YAML11_SPECIAL.test(value)
    ? value
    : JSON.stringify(value);
}

function flowList(values: string[]): string {
  return `[${values.map((v) => (/[,[\]{}]/.test(v) ? JSON.stringify(v) : plainOrQuoted(v))).join(', ')}]`;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// The rewrite is byte surgery; prove it produced the YAML we meant before anything is written:
// every python part on the reference, the data otherwise the same as snapcraft reads it, and no
// anchor defined twice (PyYAML refuses that; the yaml package would not say).
function verifyRewrite(project: SnapcraftProject, text: string, reference: string): void {
  const reparsed = parseSnapcraftYaml(text, project.file, project.projectDir);
  const key = project.constraintsKey;
  const problem = reparsed.pythonParts.some(
    (part) =>
      !part.constraints.includes(reference) ||
      part.constraints.some((e) => e !== reference && isUpperConstraintsEntry(e)),
  )
    ? `did not set every python part to ${reference}`
    : !isDeepStrictEqual(
          withoutConstraints(project.document, key),
          withoutConstraints(reparsed.document, key),
        )
      ? 'would change more than the constraints keys'
      : duplicateAnchor(reparsed.document);
  if (problem) {
    throw new ConfigurationError(
      `${project.file}: rewriting its constraints ${problem}; nothing was written. This file has a shape the ` +
        `toolkit cannot edit safely: point the python parts' '${key}' at ${reference} by hand.`,
    );
  }
}

/** The document's data as snapcraft reads it (merges applied), less every python part's constraints key. */
function withoutConstraints(document: Document, key: string): unknown {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value && typeof value === 'object') {
      const map = value as Record<string, unknown>;
      const python = /^python[23]?$/.test(String(map.plugin ?? ''));
      return Object.fromEntries(
        Object.entries(map)
          .filter(([k]) => !(python && k === key))
          .map(([k, v]) => [k, strip(v)]),
      );
    }
    return value;
  };
  return strip(document.toJS({ maxAliasCount: -1 }));
}

function duplicateAnchor(document: Document): string {
  const seen = new Set<string>();
  let duplicate = '';
  visit(document, (_key, node) => {
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (!anchor) return;
    if (seen.has(anchor)) duplicate = `would define the anchor &${anchor} twice`;
    seen.add(anchor);
  });
  return duplicate;
}
