import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  LineCounter,
  isMap,
  isSeq,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import { ConfigurationError } from '../platform/index.js';
import { PYTHON_PLUGIN_KEYS, pythonGeneration, type PythonPluginGeneration } from './keys.js';
import {
  effectivePair,
  isMergePair,
  keyString,
  resolveNode,
  scalarString,
  stringList,
} from './yaml-nodes.js';

/** Where snapcraft looks for its project file, in its own order. */
export const SNAPCRAFT_YAML_LOCATIONS = [
  'snap/snapcraft.yaml',
  'snapcraft.yaml',
  '.snapcraft.yaml',
  'build-aux/snap/snapcraft.yaml',
] as const;

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
  /** `constraints` for no base up to core20, `python-constraints` for core22 and later. */
  readonly constraintsKey: string;
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

/**
 * Parses snapcraft.yaml text. Everything wrong is reported at once, in one ConfigurationError of
 * `file:line:col: what` lines: every duplicate key (with its path and both lines), every
 * python constraints key the base does not know.
 */
export function parseSnapcraftYaml(
  text: string,
  file: string,
  projectDir = projectDirOf(file),
): SnapcraftProject {
  rejectTemplates(text, file);
  const lineCounter = new LineCounter();
  // snapcraft reads YAML 1.1 with PyYAML: `<<` merges anchored maps into parts.
  const document = parseDocument(text, {
    lineCounter,
    uniqueKeys: false,
    merge: true,
    prettyErrors: false,
  });
  const at = (offset: number): string => {
    const pos = lineCounter.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  if (document.errors.length > 0) {
    throw new ConfigurationError(
      document.errors
        .map((e) => `${at(e.pos[0])}: ${yamlErrorMessage(e.code, e.message)}`)
        .join('\n'),
    );
  }
  // Everything wrong is collected first and reported together, in the file's order.
  const problems = new Map<number, string>();
  const fail = (): never => {
    throw new ConfigurationError(
      [...problems]
        .sort(([a], [b]) => a - b)
        .map(([offset, message]) =>
          offset >= 0 ? `${at(offset)}: ${message}` : `${file}: ${message}`,
        )
        .join('\n'),
    );
  };
  for (const d of duplicateKeys(document.contents, [])) {
    problems.set(
      d.offset,
      `duplicate key '${d.path}' (first at line ${lineCounter.linePos(d.firstOffset).line}): ` +
        'snapcraft would keep only one of them silently; remove or merge the other',
    );
  }
  const root = document.contents;
  if (!isMap(root)) {
    problems.set(-1, 'the top level is not a mapping of keys (name, base, parts, ...).');
    return fail();
  }
  const value = (map: YAMLMap, key: string): unknown =>
    resolveNode(effectivePair(map, key, document)?.value, document);
  const name = scalarString(value(root, 'name'));
  if (!name) problems.set(-2, "the 'name' key is missing or empty; a snap needs a name.");
  const base = scalarString(value(root, 'base')) ?? null;
  const generation = pythonGeneration(base, file);
  const keys = PYTHON_PLUGIN_KEYS[generation];
  const parts = value(root, 'parts');
  if (!isMap(parts)) {
    problems.set(-3, "the 'parts' key is missing or is not a mapping of part names to parts.");
    return fail();
  }
  const pythonParts: PythonPart[] = [];
  for (const pair of parts.items) {
    const partName = keyString(pair);
    const part = resolveNode(pair.value, document);
    if (!isMap(part)) continue;
    if (!PYTHON_PLUGINS.has(scalarString(value(part, 'plugin')) ?? '')) continue;
    for (const foreign of keys.foreign) {
      const found = effectivePair(part, foreign, document);
      if (!found) continue;
      const right = foreign.includes('constraints') ? keys.constraints : keys.requirements;
      // A key in a merged anchor is one mistake, however many parts merge it: named once.
      const offset = (found.key as Scalar).range?.[0] ?? 0;
      if (problems.has(offset)) continue;
      problems.set(
        offset,
        `part '${partName}' uses '${foreign}', which ${keys.plugin} refuses ` +
          `with base ${base ?? '(none)'}; rename it to '${right}'`,
      );
    }
    pythonParts.push({
      name: partName,
      constraints: stringList(value(part, keys.constraints), document),
      source: scalarString(value(part, 'source')),
      sourceSubdir: scalarString(value(part, 'source-subdir')),
      pythonPackages: stringList(value(part, keys.packages), document),
    });
  }
  if (problems.size > 0) fail();
  return {
    file,
    projectDir,
    text,
    name: name!,
    base,
    grade: scalarString(value(root, 'grade')) ?? null,
    generation,
    constraintsKey: keys.constraints,
    pythonParts,
    document,
  };
}

// The yaml package's messages name its own API in places; say what to change in the file.
function yamlErrorMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS')
    return 'snapcraft.yaml must be one YAML document; remove the second (after ---)';
  return message.split('\n')[0]!;
}

interface Duplicate {
  readonly path: string;
  readonly offset: number;
  readonly firstOffset: number;
}

// Every key that appears twice in one mapping, anywhere, with the dotted path to it.
function duplicateKeys(node: unknown, path: string[]): Duplicate[] {
  const found: Duplicate[] = [];
  if (isMap(node)) {
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      if (isMergePair(pair)) continue;
      const name = keyString(pair);
      const offset = (pair.key as Node | null)?.range?.[0] ?? 0;
      const first = seen.get(name);
      if (first !== undefined)
        found.push({ path: [...path, name].join('.'), offset, firstOffset: first });
      else seen.set(name, offset);
      found.push(...duplicateKeys(pair.value, [...path, name]));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => found.push(...duplicateKeys(item, [...path, `${index}`])));
  }
  return found;
}

// Jinja/cookiecutter templates parse as YAML by accident ({{ x }} is a flow mapping), so look at
// the text: `{{` or `{%` outside comments, quoted strings and block scalars (where a shell script's
// `--format '{{.Id}}'` is just text) means a template.
function rejectTemplates(text: string, file: string): void {
  const exempt: [number, number][] = [];
  visit(parseDocument(text, { uniqueKeys: false }), {
    Scalar(_key, node) {
      if (node.type !== 'PLAIN' && node.range) exempt.push([node.range[0], node.range[1]]);
    },
  });
  for (const match of text.matchAll(/\{\{|\{%/g)) {
    const offset = match.index;
    if (exempt.some(([start, end]) => offset >= start && offset < end)) continue;
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    const before = text.slice(lineStart, offset);
    if (/^\s*#|\s#/.test(before)) continue;
    const line = text.slice(
      lineStart,
      text.indexOf('\n', offset) < 0 ? undefined : text.indexOf('\n', offset),
    );
    const number = text.slice(0, lineStart).split('\n').length;
    throw new ConfigurationError(
      `${file}:${number}: this is a template ('${line.trim()}'), not a snapcraft.yaml; render it first ` +
        `(cookiecutter, jinja) and point 'project' at the result.`,
    );
  }
}

/**
 * Each part's local `source` (a path, not a URL or a remote spec) as written, for a build that
 * gets only the project directory (a remote build on Launchpad).
 */
export function localSources(project: SnapcraftProject): { part: string; source: string }[] {
  const data = project.document.toJS({ maxAliasCount: -1 }) as {
    parts?: Record<string, { source?: unknown } | null>;
  } | null;
  return Object.entries(data?.parts ?? {}).flatMap(([part, body]) => {
    const source = body?.source;
    if (typeof source !== 'string' || /^[a-z][a-z0-9+.-]*:|^git@|^lp:/i.test(source)) return [];
    return [{ part, source }];
  });
}
