import { isScalar, isSeq, type Document, type Node, type YAMLMap } from 'yaml';
import { PYTHON_PLUGINS, UV_PLUGIN, type PythonPluginGeneration } from './generations.js';
import { effectivePair, resolveNode, scalarString, stringList } from './yaml-nodes.js';

/** A part pip installs (plugin python), with what the toolkit reads of it. */
export interface PythonPart {
  readonly name: string;
  /** python, python2 or python3 (the last two only without a base: snapcraft 2.43's). */
  readonly plugin: string;
  /** The constraints the part has now (string and list forms both become a list). */
  readonly constraints: string[];
  readonly requirements: string[];
  readonly source?: string;
  readonly sourceSubdir?: string;
  readonly pythonPackages: string[];
  /** `python-version` (no base, core, core18): python2 or python3. */
  readonly pythonVersion?: string;
}

/** A part craft-parts' uv plugin installs: `uv sync` from the project's uv.lock. */
export interface UvPart {
  readonly name: string;
  readonly source?: string;
  readonly sourceSubdir?: string;
}

const PIP_PLUGINS = new Set(['python', 'python2', 'python3']);

/** Which installer a part uses, by its plugin. */
export function partInstaller(plugin: string | undefined): 'pip' | 'uv' | null {
  if (plugin && PIP_PLUGINS.has(plugin)) return 'pip';
  if (plugin === UV_PLUGIN.plugin) return 'uv';
  return null;
}

/** A problem at an offset of the file (-1: none to point at). */
export type Problems = Map<number, string>;

/**
 * Reads a python part as its generation's plugin would, adding to `problems` what that plugin
 * refuses: the other generations' keys, a file key of the wrong type (2.43's are strings, every
 * later one's lists), an entry twice in a list (uniqueItems), and a `$VARIABLE` in a file entry
 * that the generation does not replace (it would reach pip as those characters). The
 * constraints key is exempt from the type rule: the toolkit writes it anew.
 */
export function readPythonPart(
  name: string,
  part: YAMLMap,
  generation: PythonPluginGeneration,
  document: Document,
  problems: Problems,
  base: string | null,
): PythonPart {
  const rules = PYTHON_PLUGINS[generation];
  const at = (node: unknown): number => (node as Node | null)?.range?.[0] ?? -1;
  const add = (offset: number, message: string): void => {
    // A key in a merged anchor is one mistake, however many parts merge it: named once.
    if (!problems.has(offset)) problems.set(offset, message);
  };
  const value = (key: string): unknown =>
    resolveNode(effectivePair(part, key, document)?.value, document);
  const baseName = base ?? '(none)';
  const plugin = scalarString(value('plugin'));
  if (plugin !== 'python' && generation !== 'snapcraft-2.43') {
    const pluginPair = effectivePair(part, 'plugin', document);
    add(
      at(pluginPair?.value),
      `part '${name}' uses plugin '${plugin}', which only snapcraft 2.43 (no base) has; with base ${baseName} ` +
        `write 'plugin: python'` +
        (generation === 'snapcraft-v1' && plugin === 'python2'
          ? " and 'python-version: python2'"
          : ''),
    );
  }
  for (const foreign of rules.foreign) {
    const found = effectivePair(part, foreign, document);
    if (!found) continue;
    const right = foreign.includes('constraints')
      ? rules.constraints
      : foreign.includes('requirements')
        ? rules.requirements
        : null;
    add(
      at(found.key),
      `part '${name}' uses '${foreign}', which ${rules.plugin} refuses with base ${baseName}; ` +
        (right ? `rename it to '${right}'` : 'remove it'),
    );
  }
  for (const key of [rules.requirements, rules.constraints]) {
    const pair = effectivePair(part, key, document);
    const node = resolveNode(pair?.value, document);
    if (!pair || node === null || node === undefined) continue;
    const isList = isSeq(node);
    if (key === rules.requirements && rules.fileValue === 'string' && isList) {
      const items = stringList(node, document);
      add(
        at(pair.key),
        `part '${name}': '${key}' is a list, but snapcraft 2.43 (no base) takes one file as a string ` +
          `(plugins/python.py schema: "type": "string")` +
          (items.length === 1
            ? `; write '${key}: ${items[0]}'`
            : '; list one file, and put the rest in it with -r lines'),
      );
    } else if (key === rules.requirements && rules.fileValue === 'list' && isScalar(node)) {
      add(
        at(pair.key),
        `part '${name}': '${key}' is a string, but ${rules.plugin} takes a list; write '${key}: [${scalarString(node)}]'`,
      );
    } else if (!isList && !isScalar(node)) {
      add(at(pair.key), `part '${name}': '${key}' must be a list of files or URLs, not a mapping`);
    }
    const entries = stringList(node, document);
    const seen = new Set<string>();
    entries.forEach((entry, index) => {
      const item = isSeq(node) ? node.items[index] : node;
      // uniqueItems is jsonschema's (2.43, v1, v2); craft-parts' list[str] takes repeats.
      if (isList && seen.has(entry) && generation !== 'craft-parts')
        add(
          at(item),
          `part '${name}': '${key}' lists '${entry}' twice, which its schema refuses (uniqueItems); remove one`,
        );
      seen.add(entry);
      // A URL goes to pip as it is: a `$` in it is the server's business.
      const unexpanded = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry)
        ? null
        : unexpandedVariable(entry, rules.expands);
      // An OpenStack constraints entry is replaced by the toolkit's own; others stay as written.
      if (unexpanded && !(key === rules.constraints && /upper-constraints/.test(entry)))
        add(
          at(item),
          `part '${name}': '${key}' entry '${entry}' uses $${unexpanded}, which ${rules.plugin} does not ` +
            `replace in part properties, so the file is not found; ` +
            (generation === 'snapcraft-2.43'
              ? `use a path relative to the part's source, or $SNAPCRAFT_STAGE/../<path in the project>`
              : `use ${rules.projectFile('<path in the project>')}`),
        );
    });
  }
  return {
    name,
    plugin: scalarString(value('plugin')) ?? 'python',
    constraints: stringList(value(rules.constraints), document),
    requirements: stringList(value(rules.requirements), document),
    source: scalarString(value('source')),
    sourceSubdir: scalarString(value('source-subdir')),
    pythonPackages: stringList(value(rules.packages), document),
    pythonVersion: scalarString(value('python-version')),
  };
}

/**
 * Reads a uv part, adding to `problems` any pip constraints or requirements key on it: craft-parts
 * refuses them (its PartSpec forbids keys it does not know), and the uv plugin has none.
 */
export function readUvPart(
  name: string,
  part: YAMLMap,
  document: Document,
  problems: Problems,
): UvPart {
  for (const key of ['python-constraints', 'python-requirements', 'constraints', 'requirements']) {
    const found = effectivePair(part, key, document);
    if (!found) continue;
    const offset = (found.key as Node | null)?.range?.[0] ?? -1;
    if (problems.has(offset)) continue;
    problems.set(
      offset,
      `part '${name}' (plugin: uv) has '${key}', which craft-parts refuses: the uv plugin installs ` +
        `exactly what uv.lock says (${UV_PLUGIN.source}); remove the key, and pin versions in ` +
        `pyproject.toml and uv.lock`,
    );
  }
  const value = (key: string): unknown =>
    resolveNode(effectivePair(part, key, document)?.value, document);
  return {
    name,
    source: scalarString(value('source')),
    sourceSubdir: scalarString(value('source-subdir')),
  };
}

/** The first `$VAR`/`${VAR}` in `entry` that is not one the generation replaces, if any. */
export function unexpandedVariable(entry: string, expands: readonly string[]): string | null {
  for (const match of entry.matchAll(/\$(\{)?([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const [, brace, name] = match as unknown as [string, string | undefined, string];
    // Replacement is textual: `$SNAPCRAFT_STAGE_X` has `$SNAPCRAFT_STAGE` replaced in it (to
    // <stage>_X), while `${SNAPCRAFT_STAGE_X}` contains neither `$SNAPCRAFT_STAGE` nor `${...}`.
    const replaced = brace
      ? expands.includes(name) && entry.includes(`\${${name}}`)
      : expands.some((v) => name.startsWith(v));
    if (!replaced) return name;
  }
  return null;
}
