// `npm run bench [-- NAME...]`: prints each benchmark's ratio against the naive way.
import { benchEmulation } from './emulation.bench.js';
import { benchMirror, type Measure } from './mirror.bench.js';
import { benchStartup } from './startup.bench.js';

const only = process.argv.slice(2);
const want = (name: string): boolean => only.length === 0 || only.includes(name);

function mib(bytes: number): string {
  return bytes >= 1 << 20
    ? `${(bytes / (1 << 20)).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

function row(name: string, ours: Measure, naive: Measure): string {
  const speed = naive.seconds / ours.seconds;
  const bytes = ours.bytes > 0 ? naive.bytes / ours.bytes : Infinity;
  return [
    name.padEnd(30),
    `${ours.seconds.toFixed(2)} s`.padStart(9),
    mib(ours.bytes).padStart(11),
    `${naive.seconds.toFixed(2)} s`.padStart(9),
    mib(naive.bytes).padStart(11),
    `${speed.toFixed(1)}x`.padStart(8),
    `${Number.isFinite(bytes) ? bytes.toFixed(0) : 'inf'}x`.padStart(8),
  ].join('  ');
}

if (want('mirror')) {
  console.log(
    '\nmirror: ours (stored bare copy, fresh runner) vs naive (git clone --mirror && git push --mirror)',
  );
  for (const { label, rows } of await benchMirror()) {
    console.log(`\n${label}`);
    console.log(
      [
        'run'.padEnd(30),
        'ours'.padStart(9),
        'ours bytes'.padStart(11),
        'naive'.padStart(9),
        'naive bytes'.padStart(11),
        'faster'.padStart(8),
        'fewer B'.padStart(8),
      ].join('  '),
    );
    for (const r of rows) console.log(row(r.name, r.ours, r.naive));
    const [, noop, incremental] = rows;
    const ratio = (r: typeof noop) => r!.naive.seconds / r!.ours.seconds;
    const verdict = (value: number, target: number) =>
      `${value.toFixed(1)}x (target ${target}x: ${value >= target ? 'met' : 'MISSED'})`;
    console.log(
      `no-op ${verdict(ratio(noop), 20)}; incremental ${verdict(ratio(incremental), 10)}`,
    );
  }
}

if (want('emulation')) {
  console.log(
    '\nemulation: the same build step in a native amd64 container and in qemu-user emulated ones',
  );
  const results = await benchEmulation();
  if (typeof results === 'string') {
    console.log(`skipped: ${results}`);
  } else {
    const native = results.find((r) => r.arch === 'amd64')!.seconds;
    for (const r of results) {
      console.log(
        `${r.arch.padEnd(8)} ${r.seconds.toFixed(2).padStart(7)} s  ${(r.seconds / native).toFixed(1).padStart(5)}x native`,
      );
    }
    console.log(
      'the matrix builds arm64 on native arm64 runners, and emulates only what has no runner',
    );
  }
}

if (want('startup')) {
  console.log(
    '\nstartup: each bundle that can cache, as built (cache SDK loaded on first use) vs the SDK loaded up front',
  );
  for (const r of benchStartup()) {
    console.log(
      `${r.bundle.padEnd(12)} ${r.ours.toFixed(3).padStart(7)} s  eager ${r.eager.toFixed(3).padStart(7)} s  ${(r.eager / r.ours).toFixed(2).padStart(5)}x faster`,
    );
  }
}
