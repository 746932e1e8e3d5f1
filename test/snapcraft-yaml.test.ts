import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { unifiedDiff } from '../src/platform/diff.js';
import { ConfigurationError } from '../src/platform/errors.js';
import { rewriteConstraints } from '../src/snapcraft/rewrite.js';
import { parseSnapcraftYaml } from '../src/snapcraft/yaml.js';
import { findFiles, fixture, ROOT } from './helpers/fixtures.js';
import { join } from 'node:path';
import { constraintsReference } from '../src/snapcraft/generations.js';

const REL = 'snap/local/upper-constraints.txt';
const all = findFiles('snapcraft.yaml');
const templates = all.filter((f) => f.includes('{{'));
const snaps = all.filter((f) => !f.includes('{{'));

function load(file: string) {
  return parseSnapcraftYaml(readFileSync(fixture(file), 'utf8'), file);
}

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

function comments(text: string): string[] {
  return text.split('\n').filter((l) => l.trim().startsWith('#'));
}

describe('snapcraft.yaml of the real OpenStack snaps', () => {
  it('are all here: 2017 snaps, microstack, snap-openstack on core22 and core24', () => {
    expect(snaps.length).toBeGreaterThanOrEqual(20);
    const bases = new Set(snaps.map((f) => load(f).base));
    expect(bases).toEqual(new Set([null, 'core18', 'core22', 'core24']));
  });

  it.each(snaps)(
    '%s: every python part ends up on the constraints file, nothing else changes',
    (file) => {
      const project = load(file);
      const reference = constraintsReference(project.generation, REL);
      const result = rewriteConstraints(project, reference);
      const after = parse(result.text) as { parts: Record<string, Record<string, unknown>> };
      const before = parse(project.text) as { parts: Record<string, Record<string, unknown>> };
      for (const part of project.pythonParts) {
        const value = after.parts[part.name]![project.constraintsKey];
        const list = Array.isArray(value) ? value : [value];
        expect(list[0]).toBe(reference);
        expect(
          list.some(
            (e) =>
              typeof e === 'string' &&
              /raw\.githubusercontent\.com\/openstack\/requirements/.test(e),
          ),
        ).toBe(false);
        // Apart from the constraints key, the part is what it was.
        const { [project.constraintsKey]: _a, ...restAfter } = after.parts[part.name]!;
        const { [project.constraintsKey]: _b, ...restBefore } = before.parts[part.name]!;
        expect(restAfter).toEqual(restBefore);
      }
      // Everything outside the python parts is untouched, and so is every comment.
      expect({ ...after, parts: undefined }).toEqual({ ...before, parts: undefined });
      expect(comments(result.text)).toEqual(comments(project.text));
      const changedLines = unifiedDiff(project.text, result.text, 'x')
        .split('\n')
        .filter((l) => /^[+-][^+-]/.test(l));
      for (const line of changedLines) {
        expect(line).toMatch(new RegExp(`${project.constraintsKey}:|upper-constraints\\.txt`));
      }
    },
  );

  it.each(snaps)('%s: a second rewrite changes nothing', (file) => {
    const project = load(file);
    const reference = constraintsReference(project.generation, REL);
    const once = rewriteConstraints(project, reference);
    const twice = rewriteConstraints(parseSnapcraftYaml(once.text, file), reference);
    expect(twice.changed).toBe(false);
    expect(twice.text).toBe(once.text);
  });

  it('replaces the dead stable/ocata URL of the 2017 keystone snap in its string form, with a value 2.43 finds', () => {
    const project = load('openstack-archive/snap-keystone/master/snapcraft.yaml');
    expect(project.generation).toBe('snapcraft-2.43');
    expect(project.pythonParts.map((p) => p.constraints)).toEqual([
      [
        'https://raw.githubusercontent.com/openstack/requirements/stable/ocata/upper-constraints.txt',
      ],
    ]);
    const diff = unifiedDiff(
      project.text,
      rewriteConstraints(project, constraintsReference(project.generation, REL)).text,
      'snapcraft.yaml',
    );
    // 2.43 replaces no SNAPCRAFT_PROJECT_DIR; SNAPCRAFT_STAGE is <project>/stage.
    expect(diff).toContain(
      '-    constraints: https://raw.githubusercontent.com/openstack/requirements/stable/ocata/upper-constraints.txt\n' +
        '+    constraints: $SNAPCRAFT_STAGE/../snap/local/upper-constraints.txt',
    );
  });

  it('replaces the rocky URL in microstack list form, in place', () => {
    const project = load('CanonicalLtd/microstack/master/snapcraft.yaml');
    const result = rewriteConstraints(project, '$SNAPCRAFT_PROJECT_DIR/' + REL);
    expect(unifiedDiff(project.text, result.text, 's')).toContain(
      '-      - https://raw.githubusercontent.com/openstack/requirements/stable/rocky/upper-constraints.txt\n' +
        '+      - $SNAPCRAFT_PROJECT_DIR/snap/local/upper-constraints.txt',
    );
  });

  it('adds the key to a base-less part that had none (snap-tempest) as the string 2.43 takes, after its plugin', () => {
    const project = load('openstack-archive/snap-tempest/master/snapcraft.yaml');
    expect(project.pythonParts[0]!.constraints).toEqual([]);
    const result = rewriteConstraints(project, constraintsReference(project.generation, REL));
    expect(result.text).toContain(
      '    plugin: python\n    constraints: $SNAPCRAFT_STAGE/../snap/local/upper-constraints.txt\n    python-version: python2\n',
    );
  });

  it('adds the key to a core18 part as the list its v1 plugin takes, indented like its other lists', () => {
    const text = readFileSync(
      fixture('openstack-archive/snap-tempest/master/snapcraft.yaml'),
      'utf8',
    ).replace('confinement: classic', 'base: core18\nconfinement: classic');
    const project = parseSnapcraftYaml(text, 'snapcraft.yaml');
    const result = rewriteConstraints(project, constraintsReference(project.generation, REL));
    expect(result.text).toContain(
      '    plugin: python\n    constraints:\n      - $SNAPCRAFT_PROJECT_DIR/snap/local/upper-constraints.txt\n    python-version: python2\n',
    );
  });

  it('uses python-constraints and $CRAFT_PROJECT_DIR on core22+, replacing a vendored copy', () => {
    const project = load('canonical/snap-openstack/stable/2023.1/snap/snapcraft.yaml');
    expect(project).toMatchObject({
      generation: 'craft-parts',
      constraintsKey: 'python-constraints',
    });
    expect(project.pythonParts[0]!.constraints).toEqual(['upper-constraints.txt']);
    const result = rewriteConstraints(project, constraintsReference(project.generation, REL));
    expect(result.parts[0]!.after).toEqual(['$CRAFT_PROJECT_DIR/snap/local/upper-constraints.txt']);
  });

  it('keeps constraints the user added that are not OpenStack upper-constraints', () => {
    const text = readFileSync(
      fixture('CanonicalLtd/microstack/master/snapcraft.yaml'),
      'utf8',
    ).replace(
      '      - https://raw.githubusercontent.com/openstack/requirements/stable/rocky/upper-constraints.txt\n',
      '      - https://raw.githubusercontent.com/openstack/requirements/stable/rocky/upper-constraints.txt\n      - local-constraints.txt # ours\n',
    );
    const result = rewriteConstraints(
      parseSnapcraftYaml(text, 'x'),
      '$SNAPCRAFT_PROJECT_DIR/' + REL,
    );
    expect(result.parts[0]!.after).toEqual([
      '$SNAPCRAFT_PROJECT_DIR/' + REL,
      'local-constraints.txt',
    ]);
    expect(result.text).toContain('      - local-constraints.txt # ours\n');
  });

  it('rewrites flow lists and empty keys too (core18: lists)', () => {
    const base = readFileSync(
      fixture('openstack-archive/snap-neutron/master/snapcraft.yaml'),
      'utf8',
    ).replace(/^confinement:/m, 'base: core18\nconfinement:');
    const url =
      'https://raw.githubusercontent.com/openstack/requirements/stable/ocata/upper-constraints.txt';
    const flow = base.replace(`constraints: ${url}`, `constraints: [${url}, extra.txt]`);
    const empty = base.replace(`constraints: ${url}`, 'constraints:');
    const ref = '$SNAPCRAFT_PROJECT_DIR/' + REL;
    expect(rewriteConstraints(parseSnapcraftYaml(flow, 'f'), ref).text).toContain(
      `constraints: [${ref}, extra.txt]\n`,
    );
    expect(rewriteConstraints(parseSnapcraftYaml(empty, 'e'), ref).text).toContain(
      `constraints: [${ref}]\n`,
    );
  });

  describe('no base (snapcraft 2.43): one string, whatever the part had', () => {
    const base = readFileSync(
      fixture('openstack-archive/snap-neutron/master/snapcraft.yaml'),
      'utf8',
    );
    const url =
      'https://raw.githubusercontent.com/openstack/requirements/stable/ocata/upper-constraints.txt';
    const ref = '$SNAPCRAFT_STAGE/../' + REL;
    it.each([
      ['an empty key', 'constraints:'],
      ['a null', 'constraints: ~'],
      ['a flow list (which 2.43 refuses)', `constraints: [${url}]`],
      ['a block list (which 2.43 refuses)', `constraints:\n      - ${url}\n`],
      ['an empty list', 'constraints: []'],
    ])('%s becomes the string', (_what, written) => {
      const text = base.replace(`constraints: ${url}\n`, `${written.replace(/\n$/, '')}\n`);
      const result = rewriteConstraints(parseSnapcraftYaml(text, 'f'), ref);
      expect(result.text).toContain(`    constraints: ${ref}\n    build-packages:`);
      expect(parse(result.text).parts.neutron.constraints).toBe(ref);
    });

    it('refuses a second constraints file, which a string cannot hold, saying what to do', () => {
      const text = base.replace(`constraints: ${url}`, `constraints: [${url}, extra.txt]`);
      expect(() => rewriteConstraints(parseSnapcraftYaml(text, 'f'), ref)).toThrow(
        /part 'neutron' also lists 'extra.txt' in 'constraints', but snapcraft 2.43 \(no base\) takes one constraints file, a string.*move those pins into the part's requirements/,
      );
    });
  });
});

describe('bad snapcraft.yaml gets one clear error', () => {
  const keystone = readFileSync(
    fixture('openstack-archive/snap-keystone/master/snapcraft.yaml'),
    'utf8',
  );

  it.each(templates)('%s is a template, not a snapcraft.yaml', (file) => {
    expect(() => load(file)).toThrow(ConfigurationError);
    expect(() => load(file)).toThrow(/snapcraft\.yaml:1: this is a template .* render it first/);
  });

  it('names every duplicate key at once, with its path and both lines', () => {
    const text = keystone
      .replace('    plugin: python\n', '    plugin: python\n    plugin: nil\n')
      .replace(/^apps:\n/m, 'apps:\n  manage:\n    command: bin/x\n');
    const error = catchError(() => parseSnapcraftYaml(text, 'snapcraft.yaml'));
    expect(error).toBeInstanceOf(ConfigurationError);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^snapcraft\.yaml:25:3: duplicate key 'apps\.manage' \(first at line 13\): snapcraft would keep only one/,
    );
    expect(lines[1]).toMatch(
      /^snapcraft\.yaml:33:5: duplicate key 'parts\.keystone\.plugin' \(first at line 32\)/,
    );
  });

  it('names the line of broken YAML', () => {
    const text = keystone.replace(
      '  keystone:\n    plugin: python',
      '  keystone:\n    plugin: python\n   source: [oops',
    );
    expect(() => parseSnapcraftYaml(text, 'snapcraft.yaml')).toThrow(/^snapcraft\.yaml:\d+:\d+: /);
  });

  it('names duplicates and wrong keys together, each once, in the file’s order', () => {
    const text = [
      'name: k',
      'base: core20',
      'parts:',
      '  x-py: &py {plugin: python, source: ., python-constraints: [c.txt]}',
      '  a: {plugin: python, source: ., python-constraints: [c.txt]}',
      '  b: {plugin: python, source: ., source: ./b, python-requirements: [r.txt]}',
      '  c:',
      '    <<: *py',
      '  d:',
      '    <<: *py',
      '',
    ].join('\n');
    const lines = catchError(() => parseSnapcraftYaml(text, 's.yaml')).message.split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^s\.yaml:4:41: part 'x-py' uses 'python-constraints'/),
      expect.stringMatching(/^s\.yaml:5:34: part 'a' uses 'python-constraints'/),
      expect.stringMatching(/^s\.yaml:6:34: duplicate key 'parts\.b\.source' \(first at line 6\)/),
      expect.stringMatching(/^s\.yaml:6:47: part 'b' uses 'python-requirements'/),
    ]);
  });

  it('says a second document is not snapcraft.yaml, in its own words', () => {
    expect(() => parseSnapcraftYaml('name: a\nparts: {}\n---\nname: b\n', 's.yaml')).toThrow(
      /must be one YAML document; remove the second/,
    );
  });

  it('refuses an unknown base, and every constraints key the base does not know, at its key', () => {
    expect(() => parseSnapcraftYaml('name: x\nbase: core21\nparts: {}\n', 's.yaml')).toThrow(
      /base 'core21' is not one/,
    );
    const core22 = readFileSync(
      fixture('canonical/snap-openstack/stable/2023.1/snap/snapcraft.yaml'),
      'utf8',
    ).replace('python-constraints:', 'constraints:');
    const line = core22.split('\n').findIndex((l) => /^\s+constraints:/.test(l)) + 1;
    expect(() => parseSnapcraftYaml(core22, 's.yaml')).toThrow(
      new RegExp(
        `^s\\.yaml:${line}:5: part 'sunbeam-and-openstackclients' uses 'constraints', which craft-parts' python plugin \\(core22 and later\\) refuses with base core22; rename it to 'python-constraints'$`,
      ),
    );
  });

  it('refuses a file without name or parts', () => {
    expect(() => parseSnapcraftYaml('- a\n- b\n', 's.yaml')).toThrow(/top level is not a mapping/);
    expect(() => parseSnapcraftYaml('summary: x\nparts: {}\n', 's.yaml')).toThrow(
      /'name' key is missing/,
    );
    expect(() => parseSnapcraftYaml('name: x\n', 's.yaml')).toThrow(/'parts' key is missing/);
  });
});

describe('what each generation refuses, said before anything builds', () => {
  const yaml = (base: string | null, part: string): string =>
    [
      'name: x',
      ...(base ? [`base: ${base}`] : []),
      'parts:',
      '  app:',
      ...part.split('\n').map((l) => `    ${l}`),
      '',
    ].join('\n');

  it.each<[string | null, string, RegExp]>([
    [
      null,
      'plugin: python\nrequirements: [a.txt, b.txt]',
      /^s\.yaml:5:5: part 'app': 'requirements' is a list, but snapcraft 2.43 \(no base\) takes one file as a string/,
    ],
    [null, 'plugin: python\nrequirements: [a.txt]', /write 'requirements: a.txt'/],
    [
      'core18',
      'plugin: python\nrequirements: a.txt',
      /^s\.yaml:6:5: part 'app': 'requirements' is a string, but snapcraft's v1 python plugin .* takes a list; write 'requirements: \[a.txt\]'/,
    ],
    [
      'core20',
      'plugin: python\nrequirements: [a.txt, a.txt]',
      /^s\.yaml:6:\d+: part 'app': 'requirements' lists 'a.txt' twice, which its schema refuses \(uniqueItems\)/,
    ],
    [
      'core20',
      'plugin: python\npython-version: python3',
      /part 'app' uses 'python-version', which snapcraft's core20 python plugin .* refuses with base core20; remove it/,
    ],
    [
      null,
      'plugin: python\nrequirements: $SNAPCRAFT_PROJECT_DIR/r.txt',
      /uses \$SNAPCRAFT_PROJECT_DIR, which snapcraft 2.43's python plugin \(no base\) does not replace .* use a path relative to the part's source, or \$SNAPCRAFT_STAGE\/\.\.\/<path in the project>/,
    ],
    [
      'core24',
      'plugin: python\npython-requirements: [$SNAPCRAFT_PART_SRC/r.txt]',
      /uses \$SNAPCRAFT_PART_SRC, which craft-parts' python plugin .* does not replace .*use \$CRAFT_PROJECT_DIR\/<path in the project>/,
    ],
    [
      'core26',
      'plugin: uv\nsource: .\npython-constraints: [c.txt]',
      /part 'app' \(plugin: uv\) has 'python-constraints', which craft-parts refuses: the uv plugin installs exactly what uv.lock says/,
    ],
    [
      'core18',
      'plugin: python2\nsource: .',
      /part 'app' uses plugin 'python2', which only snapcraft 2.43 \(no base\) has; with base core18 write 'plugin: python' and 'python-version: python2'/,
    ],
    [
      'core20',
      'plugin: uv\nsource: .',
      /part 'app' uses plugin 'uv', which only craft-parts has \(base core22 and later\)/,
    ],
  ])('base %s: %s', (base, part, message) => {
    expect(() => parseSnapcraftYaml(yaml(base, part), 's.yaml')).toThrow(message);
  });

  it('accepts what each takes, variables it replaces included', () => {
    for (const [base, part] of [
      [null, 'plugin: python\nrequirements: $SNAPCRAFT_STAGE/../r.txt\nconstraints: c.txt'],
      ['core18', 'plugin: python\nrequirements: [$SNAPCRAFT_PROJECT_DIR/r.txt]'],
      [
        'core22',
        'plugin: python\npython-requirements:\n  - $CRAFT_PROJECT_DIR/r.txt\n  - ${SNAPCRAFT_PROJECT_DIR}/s.txt',
      ],
      ['core26', 'plugin: uv\nsource: .\nuv-groups: [ceph]'],
      // craft-parts' list[str] takes a repeat; a URL goes to pip as written; 2.43 replaces these.
      ['core22', 'plugin: python\npython-requirements: [r.txt, r.txt]'],
      ['core22', 'plugin: python\npython-requirements: [https://example.org/r.txt?token=$TOKEN]'],
      [null, 'plugin: python2\nrequirements: $SNAPCRAFT_TEMPLATES_DIR/r.txt'],
    ] as const) {
      const project = parseSnapcraftYaml(yaml(base, part), 's.yaml');
      expect(project.pythonParts.length + project.uvParts.length).toBe(1);
    }
  });

  it('tells uv parts from pip parts', () => {
    const project = parseSnapcraftYaml(
      readFileSync(join(ROOT, 'test/snaps/core26-cinder-volume-uv/snap/snapcraft.yaml'), 'utf8'),
      's.yaml',
    );
    expect(project.pythonParts).toEqual([]);
    expect(project.uvParts).toEqual([
      { name: 'cinder-volume-snap', source: '.', sourceSubdir: undefined },
    ]);
  });
});

describe('aliases no reader survives: one clear error, in bounded time and memory', () => {
  it('a merge of the map it is in', () => {
    const text = 'name: x\nparts:\n  a: &p\n    plugin: python\n    <<: *p\n';
    expect(() => parseSnapcraftYaml(text, 's.yaml')).toThrow(
      /^s\.yaml:5:9: the alias \*p is inside the node its anchor &p names/,
    );
  });

  it('a list that contains itself', () => {
    const text = 'name: x\nparts: {}\nx-loop: &l [a, *l]\n';
    expect(() => parseSnapcraftYaml(text, 's.yaml')).toThrow(
      /^s\.yaml:3:\d+: the alias \*l is inside/,
    );
  });

  it('an 860-byte alias bomb, with dry-run or not, without expanding it', async () => {
    const lines = [
      'name: x',
      'parts:',
      '  a:',
      '    plugin: python',
      '    source: .',
      'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ];
    let previous = 'a';
    for (const name of 'bcdefghi') {
      lines.push(`x-${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
      previous = name;
    }
    const text = lines.join('\n') + '\n';
    expect(text.length).toBeLessThan(900);
    const started = process.hrtime.bigint();
    const before = process.memoryUsage().heapUsed;
    expect(() => parseSnapcraftYaml(text, 's.yaml')).toThrow(
      /^s\.yaml:12:\d+: the aliases here expand to more than 100,000 nodes \(\*f alone to more than that\)/,
    );
    // Found from each node's own size: milliseconds and kilobytes, not the 387 million nodes.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(2);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('the shared python part of real snaps is no bomb', () => {
    const project = parseSnapcraftYaml(
      readFileSync(join(ROOT, 'test/snaps/core24-glance/snap/snapcraft.yaml'), 'utf8'),
      's.yaml',
    );
    expect(project.pythonParts).toHaveLength(3);
  });
});

describe('broken YAML is named where it is broken', () => {
  it('a key indented one space short: the column of its text, not of the line', () => {
    const text = 'name: x\nparts:\n  a:\n    plugin: python\n   source: .\n';
    expect(() => parseSnapcraftYaml(text, 's.yaml')).toThrow(/^s\.yaml:5:4: /);
  });
});
