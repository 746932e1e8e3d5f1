import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildRequirementsRepo,
  git,
  requirementsHistory,
  startGitDaemon,
} from '../scripts/lib/git-fixtures.mjs';
import {
  ConfigurationError,
  errorKind,
  ExternalError,
  isRetryable,
} from '../src/platform/errors.js';
import { Git } from '../src/platform/git.js';
import { parseReleaseRef } from '../src/release/ref.js';
import {
  fetchUpperConstraints,
  listRemoteRefs,
  normaliseRepoLocation,
  resolveConstraintsRef,
  type RemoteRefs,
} from '../src/constraints/requirements-repo.js';
import { SeriesTable } from '../src/release/series.js';
import { RELEASES, REQUIREMENTS, tempDir } from './helpers/fixtures.js';

const table = new SeriesTable();

/** constraints-redirects.derived.txt: what releases.openstack.org redirects each series to. */
const expected = readFileSync(join(RELEASES, 'constraints-redirects.derived.txt'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const [, , key] = line.split(/\s+/);
    const target = /\/raw\/(branch|tag)\/(.+)\/upper-constraints\.txt$/.exec(line)!;
    return { key: key!, type: target[1] as 'branch' | 'tag', name: target[2]! };
  });

/** The branch or tag a snap repo of this series would be built from. */
function snapRefFor(key: string): string {
  const series = table.get(key);
  if (series.status === 'development' || series.status === 'future') return `stable/${key}`;
  return series.status === 'unmaintained' ? `unmaintained/${key}` : `stable/${key}`;
}

describe('series -> constraints ref, by OpenStack rules', () => {
  it('covers every series of the derived redirect table', () => {
    expect(expected.length).toBeGreaterThanOrEqual(25);
  });

  // Refs as the deliverables files record them, deleted branches removed.
  const history = requirementsHistory(RELEASES);
  const refs: RemoteRefs = {
    branches: new Map([
      ['master', 'x'],
      ...history.flatMap((s) =>
        s.branches.filter((b) => !s.deleted.includes(b)).map((b) => [b, 'x'] as [string, string]),
      ),
    ]),
    tags: new Map(history.flatMap((s) => s.tags.map((t) => [t, 'x'] as [string, string]))),
  };

  it.each(expected)('$key -> $type $name', ({ key, type, name }) => {
    const ref = resolveConstraintsRef(parseReleaseRef(snapRefFor(key), table), refs);
    expect({ type: ref.type, name: ref.name }).toEqual({ type, name });
  });

  it('keeps master for a series requirements has not branched for, and for master itself', () => {
    expect(resolveConstraintsRef(parseReleaseRef('stable/2026.2', table), refs).name).toBe(
      'master',
    );
    expect(resolveConstraintsRef(parseReleaseRef('master', table), refs).name).toBe('master');
  });

  it('lets -eom replace stable but not unmaintained, and -eol win over both', () => {
    const at = (branches: string[], tags: string[]) =>
      resolveConstraintsRef(parseReleaseRef('stable/2024.1', table), {
        branches: new Map([['master', 'x'], ...branches.map((b) => [b, 'x'] as [string, string])]),
        tags: new Map(tags.map((t) => [t, 'x'] as [string, string])),
      }).name;
    expect(at(['stable/2024.1'], [])).toBe('stable/2024.1');
    expect(at(['stable/2024.1'], ['2024.1-eom'])).toBe('2024.1-eom');
    expect(at(['stable/2024.1', 'unmaintained/2024.1'], ['2024.1-eom'])).toBe(
      'unmaintained/2024.1',
    );
    expect(at(['unmaintained/2024.1'], ['2024.1-eom', '2024.1-eol'])).toBe('2024.1-eol');
  });

  it.each([
    ['stable/ocata', 'end of life'],
    ['stable/2025.1', 'maintained'],
    ['unmaintained/2024.1', 'unmaintained'],
    ['2023.2-eol', 'end of life'],
  ])(
    'refuses, never falls back to master, for %s (%s) when the mirror has none of its refs',
    (ref, status) => {
      const bare: RemoteRefs = { branches: new Map([['master', 'x']]), tags: new Map() };
      const release = parseReleaseRef(ref, table);
      const key = release.series.key;
      const error = (() => {
        try {
          resolveConstraintsRef(release, bare, 'https://mirror.example/requirements');
        } catch (e) {
          return e as Error;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error!.message).toContain(`is ${status}, so openstack/requirements has branched`);
      expect(error!.message).toContain(
        `https://mirror.example/requirements has none of stable/${key}, unmaintained/${key}, ${key}-eom, ${key}-eol`,
      );
      expect(error!.message).toMatch(/may lack the unmaintained\/\* branches or the tags/);
    },
  );

  it('uses master only for a series in development, and says why', () => {
    const bare: RemoteRefs = { branches: new Map([['master', 'x']]), tags: new Map() };
    const development = table.development();
    expect(
      resolveConstraintsRef(parseReleaseRef(`stable/${development.key}`, table), bare),
    ).toEqual({
      type: 'branch',
      name: 'master',
      rule: `${development.key} is in development: openstack/requirements has not branched for it yet`,
    });
  });
});

describe('against a requirements repo served by git daemon on 127.0.0.1', () => {
  let base: string;
  let daemon: { url: string; stop(): Promise<void> };
  let url: string;

  beforeAll(async () => {
    base = tempDir('osa-req-');
    buildRequirementsRepo(
      join(base, 'openstack/requirements'),
      requirementsHistory(RELEASES),
      REQUIREMENTS,
    );
    daemon = await startGitDaemon(base);
    url = `${daemon.url}/openstack/requirements`;
  });
  afterAll(async () => daemon?.stop());

  it('lists branches and peels annotated tags to their commits', async () => {
    const refs = await listRemoteRefs(new Git(), url);
    expect(refs.branches.has('stable/ocata')).toBe(false); // deleted at end of life
    expect(refs.branches.get('unmaintained/2024.1')).toMatch(/^[0-9a-f]{40}$/);
    const peeled = git(join(base, 'openstack/requirements'), [
      'rev-parse',
      'ocata-eol^{commit}',
    ]).trim();
    expect(refs.tags.get('ocata-eol')).toBe(peeled);
  });

  it.each(expected)('resolves $key to $type $name over git', async ({ key, type, name }) => {
    const refs = await listRemoteRefs(new Git(), url);
    const ref = resolveConstraintsRef(parseReleaseRef(snapRefFor(key), table), refs);
    expect({ type: ref.type, name: ref.name }).toEqual({ type, name });
  });

  it.each([
    ['stable/ocata', 'ocata-eol'],
    ['stable/rocky', 'rocky-eol'],
    ['stable/2023.2', '2023.2-eol'],
    ['unmaintained/2023.1', 'unmaintained/2023.1'],
    ['unmaintained/yoga', 'unmaintained/yoga'],
    ['stable/2025.1', 'stable/2025.1'],
    ['stable/2026.1', 'stable/2026.1'],
    ['master', 'master'],
  ])('fetches the real upper-constraints.txt of %s (%s) and its commit', async (snapRef, ucRef) => {
    const refs = await listRemoteRefs(new Git(), url);
    const ref = resolveConstraintsRef(parseReleaseRef(snapRef, table), refs);
    expect(ref.name).toBe(ucRef);
    const fetched = await fetchUpperConstraints(url, ref, base);
    expect(fetched.text).toBe(
      readFileSync(join(REQUIREMENTS, ucRef, 'upper-constraints.txt'), 'utf8'),
    );
    const advertised =
      ref.type === 'branch' ? refs.branches.get(ref.name) : refs.tags.get(ref.name);
    expect(fetched.commit).toBe(advertised);
  });

  it('reads a local mirror path as well as a URL', async () => {
    const local = normaliseRepoLocation(join(base, 'openstack/requirements'));
    expect(local).toMatch(/^file:\/\//);
    const refs = await listRemoteRefs(new Git(), local);
    expect(refs.tags.has('2024.2-eol')).toBe(true);
  });

  it('turns an unreachable repo into one error naming the input to change', async () => {
    const dead = `${daemon.url}/openstack/no-such-repo`;
    await expect(listRemoteRefs(new Git(), dead)).rejects.toThrow(ConfigurationError);
    await expect(listRemoteRefs(new Git(), dead)).rejects.toThrow(
      /Cannot read openstack\/requirements at .*'requirements-repo'/,
    );
    expect(() => normaliseRepoLocation('/no/such/dir')).toThrow(
      /neither a URL .* nor an existing path/,
    );
    expect(() => normaliseRepoLocation('--upload-pack=touch /tmp/x')).toThrow(ConfigurationError);
    // A server that cannot be reached is an outage, not the input: worth a re-run.
    const down = await listRemoteRefs(new Git(), 'git://127.0.0.1:1/openstack/requirements').catch(
      (e: unknown) => e,
    );
    expect(down).toBeInstanceOf(ExternalError);
    expect(isRetryable(down)).toBe(true);
  });

  it('keeps a token in a URL out of its error messages', async () => {
    const secretUrl = daemon.url.replace('git://', 'http://user:s3cr3t-token@') + '/nothing';
    const error = await listRemoteRefs(new Git(), secretUrl).catch((e: unknown) => e as Error);
    expect(errorKind(error)).not.toBe('bug');
    expect((error as Error).message).not.toContain('s3cr3t-token');
    // The action never gets that far with such a URL: credentials in it are refused first.
    expect(() => normaliseRepoLocation(secretUrl)).toThrow(/credentials in its URL/);
  });
});
