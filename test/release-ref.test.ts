import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../src/platform/errors.js';
import {
  companionChannels,
  normaliseRefName,
  parseReleaseRef,
  parseTrackMap,
  releaseBranch,
  releaseTarget,
  trackFor,
} from '../src/release/ref.js';
import { SeriesTable } from '../src/release/series.js';

const table = new SeriesTable();

describe('parseReleaseRef', () => {
  it.each([
    ['master', 'master', '2026.2'],
    ['main', 'master', '2026.2'],
    ['refs/heads/master', 'master', '2026.2'],
    ['stable/2025.1', 'stable', '2025.1'],
    ['stable/epoxy', 'stable', '2025.1'],
    ['stable/ocata', 'stable', 'ocata'],
    ['refs/heads/stable/newton', 'stable', 'newton'],
    ['unmaintained/2024.1', 'unmaintained', '2024.1'],
    ['unmaintained/zed', 'unmaintained', 'zed'],
    ['ocata-eol', 'eol', 'ocata'],
    ['refs/tags/2023.2-eol', 'eol', '2023.2'],
    ['zed-eom', 'eom', 'zed'],
    ['caracal-eom', 'eom', '2024.1'],
  ])('%s is a %s ref of series %s', (ref, kind, key) => {
    const release = parseReleaseRef(ref, table);
    expect(release.kind).toBe(kind);
    expect(release.series.key).toBe(key);
  });

  it.each([
    'stable/2025.1; rm -rf /',
    'stable/$(id)',
    'master`id`',
    '../../etc/passwd',
    'stable/ 2025.1',
    '-master',
    'a..b',
  ])('refuses %j before it can reach a shell, a path or a cache key', (ref) => {
    expect(() => normaliseRefName(ref)).toThrow(ConfigurationError);
    expect(() => normaliseRefName(ref)).toThrow(/letters, digits/);
  });

  it('says what to do with a feature branch', () => {
    expect(() => parseReleaseRef('feature/uwsgi', table)).toThrow(
      /not an OpenStack release branch.*'series' input/,
    );
  });

  it('says which series is unknown', () => {
    expect(() => parseReleaseRef('stable/2031.2', table)).toThrow(
      /'stable\/2031\.2' names no OpenStack series: '2031\.2' is not a codename or release-id/,
    );
  });
});

describe('tracks', () => {
  it('uses the release-id (or codename) per release and latest for master', () => {
    expect(trackFor(parseReleaseRef('stable/2025.1', table))).toBe('2025.1');
    expect(trackFor(parseReleaseRef('stable/ocata', table))).toBe('ocata');
    expect(trackFor(parseReleaseRef('master', table))).toBe('latest');
  });

  it('takes a configurable map keyed by codename, release-id or master', () => {
    const map = parseTrackMap('# tracks\nepoxy=2025.1-lts\nmaster: 2026.2\n\nocata = ocata', table);
    expect(trackFor(parseReleaseRef('stable/2025.1', table), map)).toBe('2025.1-lts');
    expect(trackFor(parseReleaseRef('master', table), map)).toBe('2026.2');
    expect(trackFor(parseReleaseRef('unmaintained/2024.1', table), map)).toBe('2024.1');
  });

  it('names the bad line of a track map', () => {
    expect(() => parseTrackMap('epoxy=2025.1\nthis is wrong', table)).toThrow(/track-map line 2/);
    expect(() => parseTrackMap('tomato=x', table)).toThrow(/Unknown OpenStack series 'tomato'/);
  });
});

describe('one definition of a release branch', () => {
  it.each([
    ['master', true],
    ['main', true],
    ['refs/heads/main', true],
    ['stable/2025.1', true],
    ['stable/epoxy', true],
    ['unmaintained/2023.1', true],
    ['unmaintained/zed', true],
    ['feature/uwsgi', false],
    ['ocata-eol', false],
    ['2024.1-eom', false],
    ['stable/2025.1/backport', false],
    ['develop', false],
  ])('%s: %s', (ref, expected) => {
    expect(releaseBranch(ref, table) !== null).toBe(expected);
  });

  it('refuses a release branch of a series OpenStack does not have', () => {
    expect(() => releaseBranch('stable/2031.2', table)).toThrow(/names no OpenStack series/);
  });
});

describe('one answer to "which release, which track"', () => {
  it('maps main like master, to latest', () => {
    expect(releaseTarget('main', { table }).track).toBe('latest');
    expect(releaseTarget('stable/2025.1', { table }).track).toBe('2025.1');
  });

  it('lets the series input rescue any ref, still checked as a ref name', () => {
    const target = releaseTarget('feature/x', { table, series: '2023.2' });
    expect(target.release.series.name).toBe('bobcat');
    expect(target.track).toBe('2023.2');
    expect(releaseTarget('master', { table, series: 'epoxy' }).track).toBe('2025.1');
    // series: master is the series in development, published as master is.
    const development = releaseTarget('feature/x', { table, series: 'master' });
    expect(development.release.series).toBe(table.development());
    expect(development.track).toBe('latest');
    expect(() => releaseTarget('feature/$(id)', { table, series: '2023.2' })).toThrow(
      /letters, digits/,
    );
  });
});

describe('companion channels', () => {
  const table = new SeriesTable();
  const channels = (ref: string, trackMap?: Map<string, string>) =>
    companionChannels(releaseTarget(ref, { table, trackMap }), { table, trackMap });
  it('are the release track, then the previous release, then latest, each at edge', () => {
    expect(channels('stable/2025.1')).toEqual(['2025.1/edge', '2024.2/edge', 'latest/edge']);
    expect(channels('unmaintained/2023.1')).toEqual(['2023.1/edge', 'zed/edge', 'latest/edge']);
    // master publishes to latest; its previous release is the newest series before development.
    const dev = table.development();
    const previous = table.all()[table.all().indexOf(dev) + 1]!;
    expect(channels('master')).toEqual(['latest/edge', `${previous.key}/edge`]);
    expect(channels('stable/2025.1', new Map([['2024.2', 'dalmatian']]))).toEqual([
      '2025.1/edge',
      'dalmatian/edge',
      'latest/edge',
    ]);
  });
});

describe('a branch shaped like a release that names no series', () => {
  it('says to set series, with the series a point-release branch carries', () => {
    expect(() => parseReleaseRef('stable/2023.1.2', new SeriesTable())).toThrow(
      /^'stable\/2023\.1\.2' names no OpenStack series: .*set the 'series' input \(series: 2023\.1\); if '2023\.1\.2' is a series OpenStack added after this toolkit's release, update the toolkit\.$/,
    );
  });
});
