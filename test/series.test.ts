import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigurationError } from '../src/platform/errors.js';
import { SeriesTable } from '../src/release/series.js';
import { RELEASES } from './helpers/fixtures.js';

const table = new SeriesTable();

describe('SeriesTable', () => {
  it('is generated from the series_status.yaml it ships (refresh with scripts/refresh-series.mjs)', () => {
    const source = parse(readFileSync(`${RELEASES}/data/series_status.yaml`, 'utf8')) as Record<
      string,
      unknown
    >[];
    expect(table.all().map((s) => s.name)).toEqual(source.map((s) => s.name));
    expect(table.all().map((s) => s.releaseId)).toEqual(
      source.map((s) => (s['release-id'] === undefined ? null : String(s['release-id']))),
    );
    expect(table.all().map((s) => s.status)).toEqual(source.map((s) => s.status));
  });

  it('maps codenames and release-ids both ways', () => {
    expect(table.get('epoxy')).toMatchObject({
      name: 'epoxy',
      releaseId: '2025.1',
      key: '2025.1',
      slurp: true,
    });
    expect(table.get('2025.1').name).toBe('epoxy');
    expect(table.get('Antelope').key).toBe('2023.1');
    expect(table.get('ocata')).toMatchObject({
      releaseId: null,
      key: 'ocata',
      status: 'end of life',
    });
    expect(table.get('2025.2').slurp).toBe(false);
  });

  it('names the development series for master', () => {
    expect(table.development()).toMatchObject({ name: 'hibiscus', key: '2026.2' });
  });

  it('falls back to the newest future series when none is in development', () => {
    const custom = new SeriesTable([
      { name: 'indri', releaseId: '2027.1', status: 'future', slurp: true, initialRelease: '' },
      {
        name: 'hibiscus',
        releaseId: '2026.2',
        status: 'maintained',
        slurp: false,
        initialRelease: '',
      },
    ]);
    expect(custom.development().name).toBe('indri');
  });

  it('refuses an unknown series with a message that lists real ones', () => {
    expect(() => table.get('tomato')).toThrow(ConfigurationError);
    expect(() => table.get('tomato')).toThrow(
      /Unknown OpenStack series 'tomato'.*2027\.1 \(indri\)/,
    );
  });
});
