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
    '\nmirror: ours (fresh runner every run) vs naive (git clone --mirror && git push --mirror)',
  );
  const { scenarios, scale, fleet } = await benchMirror();
  const verdict = (value: number, target: number, atMost = false) =>
    `${value.toFixed(2)}x (target ${atMost ? 'at most ' : ''}${target}x: ${(atMost ? value <= target : value >= target) ? 'met' : 'MISSED'})`;
  const phases = (p: Readonly<Record<string, number>> | undefined) =>
    Object.entries(p ?? {})
      .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)}`)
      .join(', ');
  for (const [index, { label, rows }] of scenarios.entries()) {
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
    console.log('where our time went (s):');
    for (const r of rows) console.log(`  ${r.name.padEnd(30)} ${phases(r.ours.phases)}`);
    console.log(
      `  the incremental row is each side's median of three runs; the git server used ` +
        `${rows[2]!.ours.serverCpu.toFixed(2)} s of CPU during our ${rows[2]!.ours.seconds.toFixed(2)} s`,
    );
    const [first, noop, incremental] = rows;
    const ratio = (r: typeof noop) => r!.naive.seconds / r!.ours.seconds;
    console.log(
      `first mirror ${verdict(ratio(first), 1)}; no-op ${verdict(ratio(noop), 20)}; ` +
        `incremental ${verdict(ratio(incremental), index === 0 ? 10 : 15)}`,
    );
  }
  if (scale) {
    console.log(
      `\nscale: the incremental run at ${scale.commits[0]} and ${scale.commits[1]} commits (loopback, medians of three): ` +
        `${scale.seconds[0].toFixed(2)} s and ${scale.seconds[1].toFixed(2)} s, ` +
        verdict(scale.seconds[1] / scale.seconds[0], 1.3, true),
    );
    console.log(
      `  at ${scale.commits[0]}: ${phases(scale.phases[0])}; ${mib(scale.bytes[0])} on the wire`,
    );
    console.log(
      `  at ${scale.commits[1]}: ${phases(scale.phases[1])}; ${mib(scale.bytes[1])} on the wire`,
    );
  }
  console.log(
    `\nfleet: ${fleet.repos} repositories, ${fleet.changed} changed, over the link (ours and the largest alone medians of three): ours ${fleet.ours.toFixed(2)} s, ` +
      `naive ${fleet.naive.toFixed(2)} s (${(fleet.naive / fleet.ours).toFixed(1)}x faster), ` +
      `the largest alone ${fleet.largestAlone.toFixed(2)} s: ` +
      verdict(fleet.ours / fleet.largestAlone, 1.5, true),
  );
  console.log(
    `  slowest (every listing waits on the servers' CPU here, an unchanged one's too): ${fleet.slowest.join('; ')}`,
  );
  console.log(
    `  the git servers used ${fleet.serverCpu.toFixed(2)} s of CPU during our fleet run, on the ${fleet.cores} cores this machine shares with it: ` +
      `a floor of ${(fleet.serverCpu / fleet.cores).toFixed(2)} s (${(fleet.serverCpu / fleet.cores / fleet.largestAlone).toFixed(2)}x the largest alone) before any work of ours; ` +
      `ours used ${fleet.ownCpu.toFixed(2)} s`,
  );
  const { remote } = fleet;
  const unchanged = fleet.repos - fleet.changed;
  console.log(
    `\nfleet, modelled with the servers' CPU off this machine (a model, not the measure the target is set on; medians of three): ` +
      `the listings of repositories unchanged since the last run are answered from git's answer recorded then, at the link's latency and no server time ` +
      `(${remote.replayed} in the fleet run: both ends of the ${unchanged} unchanged repositories, and the changed ones' destinations); ` +
      `the changed sources' listings, and every fetch and push, run live here`,
  );
  console.log(
    `  ours ${remote.ours.toFixed(2)} s: ${(remote.ours / remote.largestAlone).toFixed(2)}x the largest alone (${remote.largestAlone.toFixed(2)} s), ` +
      `${(remote.ours / remote.changedAlone).toFixed(2)}x the ${fleet.changed} changed repositories alone (${remote.changedAlone.toFixed(2)} s): ` +
      `the ${unchanged} unchanged repositories' listings add ${(remote.ours - remote.changedAlone).toFixed(2)} s`,
  );
  console.log(
    `  slowest: ${remote.slowest.join('; ')}; the servers used ${remote.serverCpu.toFixed(2)} s of CPU`,
  );
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
