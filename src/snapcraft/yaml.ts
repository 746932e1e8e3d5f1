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
  type YAMLMap,
} from 'yaml';
import { ConfigurationError } from '../platform/index.js';
import { PYTHON_PLUGINS, pythonGeneration, type PythonPluginGeneration } from './generations.js';
import {
  partInstaller,
  readPythonPart,
  readUvPart,
  type Problems,
  type PythonPart,
  type UvPart,
} from './python-parts.js';
import {
  aliasProblems,
  effectivePair,
  isMergePair,
  keyString,
  resolveNode,
  scalarString,
} from './yaml-nodes.js';

export type { PythonPart, UvPart } from './python-parts.js';

/** Where snapcraft looks for its project file, in its own order. */
export const SNAPCRAFT_YAML_LOCATIONS = [
  'snap/snapcraft.yaml',
  'snapcraft.yaml',
  '.snapcraft.yaml',
  'build-aux/snap/snapcraft.yaml',
] as const;

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
  /** Parts pip installs (plugin python): what constraints apply to. */
  readonly pythonParts: PythonPart[];
  /** Parts craft-parts' uv plugin installs from uv.lock: constraints do not reach them. */
  readonly uvParts: UvPart[];
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

/**
 * Parses snapcraft.yaml text. Everything wrong is reported at once, in one ConfigurationError of
 * `file:line:col: what` lines: every duplicate key (with its path and both lines), an alias that
 * refers to the node it is in or expands without bound, and in python and uv parts every key, type
 * and variable their plugin refuses for the base (python-parts.ts).
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
  // The parser points some errors at the start of a line's indentation; the fault is where the
  // line's text starts.
  const faultAt = (offset: number): number => {
    let i = offset;
    while (text[i] === ' ' || text[i] === '\t') i++;
    return text[i] === '\n' || text[i] === '\r' || i >= text.length ? offset : i;
  };
  if (document.errors.length > 0) {
    throw new ConfigurationError(
      document.errors
        .map((e) => `${at(faultAt(e.pos[0]))}: ${yamlErrorMessage(e.code, e.message)}`)
        .join('\n'),
    );
  }
  // Everything wrong is collected first and reported together, in the file's order.
  const problems: Problems = new Map<number, string>();
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
  // Recursive or exploding aliases stop here: everything after would follow them.
  for (const [offset, message] of aliasProblems(document)) problems.set(offset, message);
  if (problems.size > 0) return fail();
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
  const parts = value(root, 'parts');
  if (!isMap(parts)) {
    problems.set(-3, "the 'parts' key is missing or is not a mapping of part names to parts.");
    return fail();
  }
  const pythonParts: PythonPart[] = [];
  const uvParts: UvPart[] = [];
  for (const pair of parts.items) {
    const partName = keyString(pair);
    const part = resolveNode(pair.value, document);
    if (!isMap(part)) continue;
    const installer = partInstaller(scalarString(value(part, 'plugin')));
    if (installer === 'pip')
      pythonParts.push(readPythonPart(partName, part, generation, document, problems, base));
    else if (installer === 'uv') {
      if (generation !== 'craft-parts')
        problems.set(
          (effectivePair(part, 'plugin', document)?.value as Node | undefined)?.range?.[0] ?? -1,
          `part '${partName}' uses plugin 'uv', which only craft-parts has (base core22 and later); ` +
            `with base ${base ?? '(none)'} install it with plugin: python`,
        );
      uvParts.push(readUvPart(partName, part, document, problems));
    }
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
    constraintsKey: PYTHON_PLUGINS[generation].constraints,
    pythonParts,
    uvParts,
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
