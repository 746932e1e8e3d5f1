import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { unifiedDiff } from '../src/platform/diff.js';
import { rewriteConstraints } from '../src/snapcraft/rewrite.js';
import { parseSnapcraftYaml, type SnapcraftProject } from '../src/snapcraft/yaml.js';
import { findFiles, fixture } from './helpers/fixtures.js';
import { constraintsReference } from '../src/snapcraft/generations.js';

const REL = 'snap/local/upper-constraints.txt';
const UC =
  'https://raw.githubusercontent.com/openstack/requirements/stable/2024.1/upper-constraints.txt';

/** The data snapcraft would read (YAML 1.1 merges resolved), less every python part's constraints. */
function dataWithoutConstraints(text: string, key: string): unknown {
  const data = parseDocument(text, { merge: true, uniqueKeys: false }).toJS() as Record<
    string,
    unknown
  >;
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
  return strip(data);
}

/**
 * The rewrite's promise, checked from the outside: the YAML means the same except the constraints
 * keys of python parts; every line the diff touches is a constraints line; every comment stays,
 * in order; line endings and the final newline are as they were; a second run changes nothing.
 */
function expectPreserved(project: SnapcraftProject, reference: string): string {
  const result = rewriteConstraints(project, reference);
  const original = project.text;
  const key = project.constraintsKey;
  expect(dataWithoutConstraints(result.text, key)).toEqual(dataWithoutConstraints(original, key));
  const reparsed = parseSnapcraftYaml(result.text, project.file, project.projectDir);
  for (const part of reparsed.pythonParts) {
    expect(part.constraints).toContain(reference);
    expect(part.constraints.filter((e) => /upper-constraints|constraints\/upper/.test(e))).toEqual([
      reference,
    ]);
  }
  // Every line the diff touches, less its constraints key and value, is the same on both sides:
  // whole lines that are only constraints (the key, its list items) may come and go.
  const touched = unifiedDiff(original, result.text, 'x')
    .split('\n')
    .filter((l) => /^[+-](?![+-]{2} [ab]\/)/.test(l));
  const fragment = new RegExp(`\\s*${key}:\\s*(\\[[^\\]]*\\]|[^\\s#,}]+)?\\s*`);
  // A list item that is ours or stale, or a line of one (a folded item's indicator, its text).
  const entry =
    /^\s*(-\s+)?(\S*upper-constraints\.txt\S*|\S*\/constraints\/upper\/\S*|\$\S+)\s*$|^\s*-\s*[>|][+-]?\s*$/;
  const rest = (sign: string): string[] =>
    touched
      .filter((l) => l.startsWith(sign) && !entry.test(l.slice(1)))
      .map((l) =>
        l
          .slice(1)
          .replace(fragment, ' ')
          .replace(/\s*,\s*(?=[,}\]])|,\s*$/g, '')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .filter((l) => l !== '');
  expect(rest('+')).toEqual(rest('-'));
  const comments = (text: string): string[] =>
    text
      .split(/\r?\n/)
      .filter((l) => /^\s*#/.test(l) || / #/.test(l))
      .map((l) => l.replace(/^.* #/, '#'));
  expect(comments(result.text)).toEqual(comments(original));
  const crlf = (text: string): number => (text.match(/\r\n/g) ?? []).length;
  const lf = (text: string): number => (text.match(/(?<!\r)\n/g) ?? []).length;
  if (lf(original) === 0) expect(lf(result.text)).toBe(0);
  if (crlf(original) === 0) expect(crlf(result.text)).toBe(0);
  expect(/\n$/.test(result.text)).toBe(/\n$/.test(original));
  const again = rewriteConstraints(reparsed, reference);
  expect(again.changed).toBe(false);
  return result.text;
}

const rewriteOf = (text: string, file = 'snapcraft.yaml') => {
  const project = parseSnapcraftYaml(text, file, '/nowhere');
  return { project, reference: constraintsReference(project.generation, REL) };
};

describe('the rewrite keeps every byte it does not mean to change', () => {
  const snaps = findFiles('snapcraft.yaml').filter((f) => !f.includes('{{'));
  it.each(snaps)('%s', (file) => {
    const { project, reference } = rewriteOf(readFileSync(fixture(file), 'utf8'), file);
    expectPreserved(project, reference);
  });

  const edges: [string, string][] = [
    [
      'a keep (|+) block scalar ends the part: its trailing blank lines stay its own',
      'name: k\nbase: core22\nparts:\n  keystone:\n    plugin: python\n    source: .\n    override-build: |+\n      craftctl default\n\n\n  other:\n    plugin: nil\n',
    ],
    [
      'a strip (|-) block and a folded (>) block',
      'name: k\nbase: core22\nparts:\n  keystone:\n    source: .\n    override-build: |-\n      craftctl default\n    plugin: python\n    python-constraints:\n      - ' +
        UC +
        '\n    build-environment:\n      - X: >\n          folded\n          text\n',
    ],
    [
      'CRLF line endings',
      'name: k\r\nbase: core20\r\nparts:\r\n  keystone:\r\n    plugin: python\r\n    source: .\r\n    constraints:\r\n      - ' +
        UC +
        '\r\n      - local.txt\r\n  glance:\r\n    plugin: python\r\n    source: .\r\n',
    ],
    [
      'no final newline',
      'name: k\nbase: core24\nparts:\n  keystone:\n    source: .\n    plugin: python',
    ],
    [
      'flow lists, with a comment after',
      `name: k\nbase: core22\nparts:\n  keystone:\n    plugin: python\n    python-constraints: [${UC}, extra.txt] # pinned\n    source: .\n`,
    ],
    [
      'anchors and << merges on parts',
      `name: k\nbase: core22\nx-python: &python\n  plugin: python\n  python-constraints:\n    - ${UC}\nx-plain: &plain\n  plugin: python\n  build-packages: [gcc]\nparts:\n  keystone:\n    <<: *python\n    source: keystone/\n  glance:\n    <<: *plain\n    source: glance/\n  nova: *plain\n`,
    ],
    [
      'comments between keys, and a comment on the plugin line',
      'name: k\nbase: core20\nparts:\n  # the service\n  keystone:\n    # how\n    plugin: python # v2 plugin\n    # where from\n    source: .\n    # pins\n    constraints:\n      # the release\n      - https://releases.openstack.org/constraints/upper/yoga\n      # ours\n      - ours.txt\n',
    ],
    [
      'a flow mapping part',
      'name: k\nbase: core24\nparts:\n  keystone: {plugin: python, source: .}\n  nova: {source: ., plugin: python, python-constraints: []}\n',
    ],
    [
      'four-space indents and zero-indented lists',
      'name: k\nparts:\n    keystone:\n        plugin: python\n        source: .\n        python-packages:\n        - uwsgi\n        constraints:\n        - ' +
        UC +
        '\n        - ' +
        UC.replace('2024.1', '2023.2') +
        '\n',
    ],
    [
      'a string constraints value on a legacy base, and an empty key',
      `name: k\nbase: core18\nparts:\n  a:\n    plugin: python\n    constraints: ${UC}\n  b:\n    plugin: python\n    constraints:\n`,
    ],
  ];
  it.each(edges)('%s', (_name, text) => {
    const { project, reference } = rewriteOf(text);
    expectPreserved(project, reference);
  });

  // Cases a real-snaps review found, each a promise the rewrite broke before.
  const found: [string, string][] = [
    [
      'a plugin given by an alias',
      `name: k\nbase: core22\nparts:\n  a: {plugin: &py python, source: .}\n  b:\n    plugin: *py\n    source: https://opendev.org/openstack/nova/archive/master.tar.gz\n`,
    ],
    [
      'an anchor on the first list item',
      `name: k\nbase: core22\nparts:\n  a:\n    plugin: python\n    python-constraints:\n      - &pins local-pins.txt\n    other: *pins\n`,
    ],
    [
      'a constraints value that is an alias of another key',
      `name: k\nbase: core18\nenvironment:\n  UPPER: &uc ${UC}\nparts:\n  a: {plugin: python, source: ., constraints: *uc}\n`,
    ],
    [
      'an alias item before a stale URL',
      `name: k\nbase: core22\nx: &pins local-pins.txt\nparts:\n  a:\n    plugin: python\n    python-constraints:\n      - *pins\n      - ${UC}\n`,
    ],
    [
      'a folded item first, then another',
      `name: k\nbase: core22\nparts:\n  a:\n    plugin: python\n    python-constraints:\n      - >-\n        ${UC}\n      - local.txt\n`,
    ],
    [
      'a folded stale item after ours',
      `name: k\nbase: core22\nparts:\n  a:\n    plugin: python\n    python-constraints:\n      - $CRAFT_PROJECT_DIR/snap/local/upper-constraints.txt\n      - >-\n        ${UC}\n      - local.txt\n`,
    ],
    [
      'an empty key with a comment, and ~',
      `name: k\nbase: core22\nparts:\n  a:\n    plugin: python\n    python-constraints:   # TODO: pin to the release\n  b:\n    plugin: python\n    python-constraints: ~  # none yet\n`,
    ],
    [
      'a flow map with a null key, and one with a trailing comma',
      `name: k\nbase: core22\nparts:\n  a: {plugin: python, python-constraints: null, source: .}\n  b: {plugin: python, source: .,}\n`,
    ],
    [
      'the last item of a file with no final newline',
      `name: k\nbase: core22\nparts:\n  a:\n    plugin: python\n    python-constraints:\n      - local.txt\n      - ${UC}`,
    ],
    [
      'flow list entries that need their quotes',
      `name: k\nbase: core22\nparts:\n  a:\n    plugin: python\n    python-constraints: ['${UC}', 'yes', '1.0', 'null']\n`,
    ],
    [
      'the cgit form of the constraints URL',
      'name: k\nparts:\n  a:\n    plugin: python\n    constraints: https://git.openstack.org/cgit/openstack/requirements/plain/upper-constraints.txt?h=stable/ocata\n',
    ],
    [
      'parts named by a number and a boolean',
      `name: k\nbase: core22\nparts:\n  2023.1:\n    plugin: python\n    source: .\n  true:\n    plugin: python\n    source: .\n`,
    ],
    [
      'templates-looking text in a block scalar and a quoted string',
      `name: k\nbase: core22\ndescription: 'Progress: {%d}'\nparts:\n  a:\n    plugin: python\n    override-pull: |\n      docker inspect --format '{{.Id}}' img\n`,
    ],
    [
      'a hyphenated anchor on a list item',
      `name: k\nbase: core22\nparts:\n  a:\n    plugin: python\n    build-packages:\n      - &py-dev python3-dev\n    source: .\n`,
    ],
  ];
  it.each(found)('%s', (_name, text) => {
    const { project, reference } = rewriteOf(text);
    expectPreserved(project, reference);
    const result = rewriteConstraints(project, reference).text;
    const anchors = [...result.matchAll(/&([\w-]+)/g)].map((m) => m[1]);
    expect(new Set(anchors).size).toBe(anchors.length);
  });

  it('replaces the cgit form of the dead URL, and never leaves a stale one in a list', () => {
    const cgit = rewriteOf(found[10]![1]);
    expect(rewriteConstraints(cgit.project, cgit.reference).text).toContain(
      `    constraints: ${cgit.reference}\n`,
    );
    for (const index of [3, 4, 5, 8]) {
      const { project, reference } = rewriteOf(found[index]![1]);
      expect(rewriteConstraints(project, reference).text).not.toContain('stable/2024.1');
    }
  });

  it("keeps the other keys of an aliased constraints value, and the user's quotes", () => {
    const alias = rewriteOf(found[2]![1]);
    expect(rewriteConstraints(alias.project, alias.reference).text).toContain(`UPPER: &uc ${UC}\n`);
    const quoted = rewriteOf(found[9]![1]);
    expect(rewriteConstraints(quoted.project, quoted.reference).text).toContain(
      `python-constraints: [${quoted.reference}, 'yes', '1.0', 'null']\n`,
    );
    const comment = rewriteOf(found[6]![1]);
    expect(rewriteConstraints(comment.project, comment.reference).text).toContain(
      `python-constraints: [${comment.reference}]   # TODO: pin to the release\n`,
    );
  });

  it('refuses, saying why, to edit an entry other keys share through an anchor', () => {
    const { project, reference } = rewriteOf(
      `name: k\nbase: core22\nparts:\n  a:\n    plugin: python\n    python-constraints:\n      - &uc ${UC}\n    build-environment:\n      - UPPER: *uc\n`,
    );
    expect(() => rewriteConstraints(project, reference)).toThrow(
      /part 'a': its 'python-constraints' \(or an entry of it\) is the anchor &uc, which other keys use too/,
    );
  });

  it('edits an anchored constraints list once, where it is written', () => {
    const text = edges.find(([n]) => n.startsWith('anchors'))![1];
    const { project, reference } = rewriteOf(text);
    const result = rewriteConstraints(project, reference).text;
    expect(result).toContain(
      `x-python: &python\n  plugin: python\n  python-constraints:\n    - ${reference}\n`,
    );
    // keystone's comes from x-python; glance gets its own key; nova is x-plain itself, so x-plain gets one.
    expect(result.match(/python-constraints:/g)).toHaveLength(3);
    expect(result).toContain(`nova: *plain\n`);
  });

  it('writes lists for core20 and later, even where the file had a string', () => {
    const { project, reference } = rewriteOf(
      `name: k\nbase: core20\nparts:\n  a:\n    plugin: python\n    constraints: ${UC}\n`,
    );
    expect(rewriteConstraints(project, reference).text).toContain(`constraints: [${reference}]\n`);
  });

  it('keeps a CRLF file CRLF where it inserts lines', () => {
    const { project, reference } = rewriteOf(
      'name: k\r\nbase: core22\r\nparts:\r\n  a:\r\n    plugin: python\r\n    source: .\r\n',
    );
    expect(rewriteConstraints(project, reference).text).toBe(
      `name: k\r\nbase: core22\r\nparts:\r\n  a:\r\n    plugin: python\r\n    python-constraints:\r\n      - ${reference}\r\n    source: .\r\n`,
    );
  });
});
