import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');

export interface StartupRow {
  readonly bundle: string;
  /** Median wall seconds to start and exit (no inputs: the first input check ends it). */
  readonly ours: number;
  /** The same with the Actions cache SDK loaded before the bundle starts, as an eager import would. */
  readonly eager: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timed(args: string[]): number {
  const started = process.hrtime.bigint();
  // Outside Actions: no GITHUB_* or INPUT_*, so each bundle stops at its first check.
  spawnSync(process.execPath, args, { stdio: 'ignore', env: { PATH: process.env.PATH } });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * Cold start of each bundle that can use the Actions cache: as built (the cache SDK loads on
 * first use) against the SDK's chunk loaded up front, alternating runs so load drifts hit both.
 */
export function benchStartup(runs = 15): StartupRow[] {
  const rows: StartupRow[] = [];
  const bundles = readdirSync(join(ROOT, 'dist'), { withFileTypes: true }).filter((d) =>
    d.isDirectory(),
  );
  for (const { name: bundle } of bundles) {
    const dir = join(ROOT, 'dist', bundle);
    const chunk = readdirSync(dir).find((f) => /^\d+\.index\.js$/.test(f));
    if (!chunk) continue;
    const entry = join(dir, 'index.js');
    const eagerArgs = ['--import', pathToFileURL(join(dir, chunk)).href, entry];
    const ours: number[] = [];
    const eager: number[] = [];
    timed([entry]);
    for (let i = 0; i < runs; i++) {
      ours.push(timed([entry]));
      eager.push(timed(eagerArgs));
    }
    rows.push({ bundle, ours: median(ours), eager: median(eager) });
  }
  return rows;
}
