import { ConfigurationError } from '../platform/index.js';
import { SERIES_STATUS } from './data/series-status.js';

/** Lifecycle phase of a series, as openstack/releases names it. */
export type SeriesStatus = 'future' | 'development' | 'maintained' | 'unmaintained' | 'end of life';

/** One row of openstack/releases' series_status.yaml. */
export interface SeriesRecord {
  /** Codename, lower case: `epoxy`, `ocata`. */
  readonly name: string;
  /** `2025.1` from antelope (2023.1) on; null for older series. */
  readonly releaseId: string | null;
  readonly status: SeriesStatus;
  /** Skip-level upgrade release point. */
  readonly slurp: boolean;
  readonly initialRelease: string;
}

/** A series as the rest of the toolkit sees it. */
export interface Series extends SeriesRecord {
  /**
   * The name OpenStack keys branches, tags and constraints by: the release-id where there is one,
   * else the codename (`stable/2025.1`, `stable/ocata`, `2023.2-eol`, `ocata-eol`).
   */
  readonly key: string;
}

/** The OpenStack release table: codename <-> release-id, status, SLURP. */
export class SeriesTable {
  private readonly byName = new Map<string, Series>();

  constructor(records: readonly SeriesRecord[] = SERIES_STATUS) {
    for (const record of records) {
      const series: Series = { ...record, key: record.releaseId ?? record.name };
      this.byName.set(record.name.toLowerCase(), series);
      if (record.releaseId) this.byName.set(record.releaseId, series);
    }
  }

  /** All series, newest first (the order of series_status.yaml). */
  all(): Series[] {
    return [...new Set(this.byName.values())];
  }

  /** Looks a series up by codename (any case) or release-id; undefined if OpenStack has none. */
  find(nameOrId: string): Series | undefined {
    return this.byName.get(nameOrId.trim().toLowerCase());
  }

  /** A few series for a message: `2026.1 (gazpacho), 2025.2 (flamingo), ...`. */
  examples(count = 6): string {
    return this.all()
      .slice(0, count)
      .map((s) => (s.releaseId ? `${s.releaseId} (${s.name})` : s.name))
      .join(', ');
  }

  /** Like find, but an unknown series is the user's mistake, and the message lists what exists. */
  get(nameOrId: string): Series {
    const series = this.find(nameOrId);
    if (!series) {
      const known = this.examples();
      throw new ConfigurationError(
        `Unknown OpenStack series '${nameOrId}'. Use a codename or release-id from openstack/releases ` +
          `series_status.yaml, e.g. ${known}; if OpenStack added it after this toolkit's release, ` +
          `update the toolkit to a newer release.`,
      );
    }
    return series;
  }

  /**
   * The series master is working on: the one in development, else the newest future one (between
   * a release and the next cycle's start the table can have no series in development).
   */
  development(): Series {
    const all = this.all();
    const found =
      all.find((s) => s.status === 'development') ?? all.find((s) => s.status === 'future');
    if (!found) {
      throw new ConfigurationError(
        'The series table has no series in development or future status, so master maps to nothing; ' +
          'update the toolkit to a newer release, or set the series input.',
      );
    }
    return found;
  }
}
