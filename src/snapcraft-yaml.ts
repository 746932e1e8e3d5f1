import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  LineCounter,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Pair,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { ConfigurationError } from './errors.js';

/** Where snapcraft looks for its project file, in its own order. */
export const SNAPCRAFT_YAML_LOCATIONS = [
  'snap/snapcraft.yaml',
  'snapcraft.yaml',
  '.snapcraft.yaml',
  'build-aux/snap/snapcraft.yaml',
] as const;

/** Which generation of snapcraft's python plugin a base uses, and so which keys it knows. */
export type PythonPluginGeneration = 'legacy' | 'core20' | 'craft-parts';

export interface PythonPart {
  readonly name: string;
  /** The constraints the part has now (string and list forms both become a list). */
  readonly constraints: string[];
  readonly source?: string;
  readonly sourceSubdir?: string;
  readonly pythonPackages: string[];
}

/** A parsed snapcraft.yaml with what the toolkit needs to know of it. */
export interface SnapcraftProject {
  readonly file: string;
  /** The directory snapcraft runs in (the parent of `snap/` when the file lives there). */
  readonly projectDir: string;
  readonly text: string;
  readonly name: string;
  readonly base: string | null;
  readonly grade: string | null;
  readonly generation: PythonPluginGeneration;
  /** `constraints` for legacy bases, `python-constraints` for core20 and later. */
  readonly constraintsKey: 'constraints' | 'python-constraints';
  readonly pythonParts: PythonPart[];
  readonly document: Document.Parsed;
}

/** A snapcraft.yaml and the directory snapcraft runs in for it. */
export interface SnapcraftLocation {
  readonly file: string;
  readonly projectDir: string;
}

/**
 * Finds snapcraft.yaml in a project directory (which is then the project root, whatever its
 * name), or accepts a path to the file itself (whose root is then derived from where it lives).
 */
export function locateSnapcraftYaml(path: string): SnapcraftLocation {
  const target = resolve(path);
  if (/\.ya?ml$/.test(target)) {
    if (!existsSync(target)) {
      throw new ConfigurationError(
        `${path} does not exist: point 'project' at a snap's directory or its snapcraft.yaml.`,
      );
    }
    return { file: target, projectDir: projectDirOf(target) };
  }
  for (const candidate of SNAPCRAFT_YAML_LOCATIONS) {
    const file = join(target, candidate);
    if (existsSync(file)) return { file, projectDir: target };
  }
  throw new ConfigurationError(
    `No snapcraft.yaml in ${path} (looked for ${SNAPCRAFT_YAML_LOCATIONS.join(', ')}): point 'project' at the snap's directory.`,
  );
}

/** The directory snapcraft treats as the project root for a given snapcraft.yaml. */
export function projectDirOf(file: string): string {
  const dir = dirname(file);
  if (basename(dir) === 'snap') {
    const parent = dirname(dir);
    return basename(parent) === 'build-aux' ? dirname(parent) : parent;
  }
  return dir;
}

const PYTHON_PLUGINS = new Set(['python', 'python2', 'python3']);

/** Classifies a base; an unknown base is the user's to fix, not ours to guess. */
export function pythonGeneration(base: string | null, file: string): PythonPluginGeneration {
  if (base === null || base === 'core' || base === 'core18') return 'legacy';
  if (base === 'core20') return 'core20';
  const match = /^core(\d\d)$/.exec(base);
  if (match && Number(match[1]) >= 22) return 'craft-parts';
  throw new ConfigurationError(
    `${file}: base '${base}' is not one this toolkit knows (core, core18, core20, core22, core24, core26 ...); fix the 'base' key.`,
  );
}

/** Parses snapcraft.yaml text; every problem becomes one ConfigurationError naming file and line. */
export function parseSnapcraftYaml(
  text: string,
  file: string,
  projectDir = projectDirOf(file),
): SnapcraftProject {
  rejectTemplates(text, file);
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    const pos = lineCounter.linePos(error.pos[0]);
    const what =
      error.code === 'DUPLICATE_KEY'
        ? `duplicate key ${quoteKeyAt(text, error.pos[0])}: snapcraft would keep only one of them silently; remove or merge the other`
        : error.message.split('\n')[0];
    throw new ConfigurationError(`${file}:${pos.line}:${pos.col}: ${what}`);
  }
  const root = document.contents;
  if (!isMap(root)) {
    throw new ConfigurationError(
      `${file}: the top level is not a mapping of keys (name, base, parts, ...).`,
    );
  }
  const name = scalarString(root.get('name', true));
  if (!name)
    throw new ConfigurationError(
      `${file}: the 'name' key is missing or empty; a snap needs a name.`,
    );
  const base = scalarString(root.get('base', true)) ?? null;
  const generation = pythonGeneration(base, file);
  const constraintsKey = generation === 'legacy' ? 'constraints' : 'python-constraints';
  const parts = root.get('parts', true);
  if (!isMap(parts)) {
    throw new ConfigurationError(
      `${file}: the 'parts' key is missing or is not a mapping of part names to parts.`,
    );
  }
  const pythonParts: PythonPart[] = [];
  for (const pair of parts.items) {
    const partName = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const part = pair.value;
    if (!isMap(part) || !PYTHON_PLUGINS.has(scalarString(part.get('plugin', true)) ?? '')) continue;
    const wrongKey = constraintsKey === 'constraints' ? 'python-constraints' : 'constraints';
    if (part.has(wrongKey)) {
      throw new ConfigurationError(
        `${file}:${lineOf(lineCounter, part.get(wrongKey, true))}: part '${partName}' uses '${wrongKey}', which ` +
          `base ${base ?? '(none)'} does not know; rename it to '${constraintsKey}'.`,
      );
    }
    pythonParts.push({
      name: partName,
      constraints: stringList(part.get(constraintsKey, true)),
      source: scalarString(part.get('source', true)),
      sourceSubdir: scalarString(part.get('source-subdir', true)),
      pythonPackages: stringList(part.get('python-packages', true)),
    });
  }
  return {
    file,
    projectDir,
    text,
    name,
    base,
    grade: scalarString(root.get('grade', true)) ?? null,
    generation,
    constraintsKey,
    pythonParts,
    document,
  };
}

// Jinja/cookiecutter templates parse as YAML by accident ({{ x }} is a flow mapping), so look at the text.
function rejectTemplates(text: string, file: string): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trimStart().startsWith('#')) continue;
    if (/\{\{|\{%/.test(line)) {
      throw new ConfigurationError(
        `${file}:${i + 1}: this is a template ('${line.trim()}'), not a snapcraft.yaml; render it first ` +
          `(cookiecutter, jinja) and point 'project' at the result.`,
      );
    }
  }
}

function quoteKeyAt(text: string, offset: number): string {
  const key = /^[^:\n]*/.exec(text.slice(offset))?.[0]?.trim();
  return key ? `'${key}'` : '';
}

function lineOf(lineCounter: LineCounter, node: unknown): number {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range ? lineCounter.linePos(range[0]).line : 0;
}

function scalarString(node: unknown): string | undefined {
  if (isScalar(node) && node.value !== null && node.value !== undefined) return String(node.value);
  return undefined;
}

function stringList(node: unknown): string[] {
  if (isSeq(node))
    return node.items.map((item) => scalarString(item)).filter((s): s is string => !!s);
  const single = scalarString(node);
  return single ? [single] : [];
}

/** The reference a part's constraints key should hold for a file at `relPath` in the project. */
export function constraintsReference(generation: PythonPluginGeneration, relPath: string): string {
  // Snapcraft expands these project variables in part properties, so the reference works whether
  // the part's source is local or a remote tarball, and inside the LXD build instance.
  return generation === 'craft-parts'
    ? `$CRAFT_PROJECT_DIR/${relPath}`
    : `$SNAPCRAFT_PROJECT_DIR/${relPath}`;
}

/** A constraints entry this toolkit replaces: OpenStack's upper-constraints, any copy or URL of it. */
export function isUpperConstraintsEntry(entry: string): boolean {
  return (
    /(^|\/)upper-constraints\.txt$/.test(entry) ||
    /releases\.openstack\.org\/constraints\/upper\//.test(entry)
  );
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
 * entries (dead branch URLs included) and keeping any other constraints the user listed. Only the
 * bytes of those entries change: comments, order and layout elsewhere stay exactly as written.
 */
export function rewriteConstraints(project: SnapcraftProject, reference: string): RewriteResult {
  const { text, document, constraintsKey } = project;
  const root = document.contents as YAMLMap;
  const parts = root.get('parts', true) as unknown as YAMLMap;
  const edits: Edit[] = [];
  const report: RewriteResult['parts'] = [];

  for (const pythonPart of project.pythonParts) {
    const part = parts.get(pythonPart.name, true) as unknown as YAMLMap;
    const before = pythonPart.constraints;
    const after = [
      reference,
      ...before.filter((e) => e !== reference && !isUpperConstraintsEntry(e)),
    ];
    report.push({ name: pythonPart.name, before, after });
    if (sameList(before, after)) continue;
    const pair = part.items.find((p) => isScalar(p.key) && p.key.value === constraintsKey) as
      Pair<Scalar, unknown> | undefined;
    edits.push(...editsFor(text, part, pair, constraintsKey, before, after, reference));
  }

  let result = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  const changed = result !== text;
  if (changed) verifyRewrite(project, result, reference);
  return { text: result, changed, parts: report };
}

function editsFor(
  text: string,
  part: YAMLMap,
  pair: Pair<Scalar, unknown> | undefined,
  key: string,
  before: string[],
  after: string[],
  reference: string,
): Edit[] {
  if (isMap(part) && part.flow) {
    throw new ConfigurationError(
      `A python part is written as a flow mapping ({...}); write it in block style so its '${key}' can be set.`,
    );
  }
  const value = pair?.value;
  if (
    !pair ||
    value === null ||
    value === undefined ||
    (isScalar(value) && (value.value === null || value.value === ''))
  ) {
    if (pair) {
      // `key:` with no value: give it one on the same line.
      const keyStart = pair.key.range![0];
      const lineEnd = indexOfLineEnd(text, keyStart);
      return [
        { start: keyStart, end: lineEnd, text: `${key}: [${after.map(flowItem).join(', ')}]` },
      ];
    }
    return [appendKey(text, part, key, after)];
  }
  if (isScalar(value)) {
    const [start, end] = value.range!;
    const replacement =
      after.length === 1 ? plainOrQuoted(after[0]!) : `[${after.map(flowItem).join(', ')}]`;
    return [{ start, end, text: replacement }];
  }
  if (isSeq(value) && value.flow) {
    const [start, end] = value.range!;
    return [{ start, end, text: `[${after.map(flowItem).join(', ')}]` }];
  }
  if (isSeq(value)) return blockSeqEdits(text, value, before, reference);
  throw new ConfigurationError(
    `'${key}' must be a list of constraints files or URLs, not a mapping.`,
  );
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
      const lineStart = text.lastIndexOf('\n', item.range![0] - 1) + 1;
      edits.push({ start: lineStart, end: indexOfLineEnd(text, item.range![0]) + 1, text: '' });
    }
  });
  if (!placed) {
    const first = seq.items[0] as Scalar;
    const lineStart = text.lastIndexOf('\n', first.range![0] - 1) + 1;
    const prefix = text.slice(lineStart, first.range![0]);
    edits.push({
      start: lineStart,
      end: lineStart,
      text: `${prefix}${plainOrQuoted(reference)}\n`,
    });
  }
  return edits;
}

// A new `key:` block after the last line of the part, indented like the part's other keys.
function appendKey(text: string, part: YAMLMap, key: string, after: string[]): Edit {
  const firstKey = part.items[0]?.key as Scalar | undefined;
  if (!firstKey?.range)
    throw new ConfigurationError(`A python part has no keys; give it a 'plugin' and a 'source'.`);
  const keyLineStart = text.lastIndexOf('\n', firstKey.range[0] - 1) + 1;
  const indent = text.slice(keyLineStart, firstKey.range[0]);
  const seqIndent = indent + (sequenceOffset(text, part) ?? '  ');
  let end = part.range![1];
  while (end > 0 && /\s/.test(text[end - 1]!)) end--;
  const insertAt = indexOfLineEnd(text, end - 1);
  const lines = [`${indent}${key}:`, ...after.map((e) => `${seqIndent}- ${plainOrQuoted(e)}`)];
  const atEof = insertAt >= text.length;
  return { start: insertAt, end: insertAt, text: `\n${lines.join('\n')}${atEof ? '\n' : ''}` };
}

// How far the part's own block lists indent their dashes past the key: '  ' or ''.
function sequenceOffset(text: string, part: YAMLMap): string | undefined {
  for (const pair of part.items) {
    const value = pair.value;
    const key = pair.key as Scalar;
    if (isSeq(value) && !value.flow && value.items.length > 0 && key.range) {
      const item = value.items[0] as Scalar;
      const keyCol = key.range[0] - (text.lastIndexOf('\n', key.range[0] - 1) + 1);
      const dash = text.lastIndexOf('-', item.range![0]);
      const dashCol = dash - (text.lastIndexOf('\n', dash - 1) + 1);
      return ' '.repeat(Math.max(0, dashCol - keyCol));
    }
  }
  return undefined;
}

function indexOfLineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end === -1 ? text.length : end;
}

function plainOrQuoted(value: string): string {
  return /^[A-Za-z0-9$/_.][A-Za-z0-9$/_.:+@%~-]*$/.test(value) && !/:\s|:$/.test(value)
    ? value
    : JSON.stringify(value);
}

function flowItem(value: string): string {
  return /[,[\]{}]/.test(value) ? JSON.stringify(value) : plainOrQuoted(value);
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
