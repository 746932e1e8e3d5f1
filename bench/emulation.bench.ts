// Emulation factor: the same build step in a native amd64 container and in an arm64 (and ppc64el)
// container run by qemu-user, so the matrix's preference for native runners rests on a number.
import { Lxd } from '../src/platform/lxd.js';

// A build step's typical work: compress a tree (what snapcraft's pack does) and run a tool many times.
const STEP = [
  'sh',
  '-c',
  'set -e; d=$(mktemp -d); for i in $(seq 1 200); do head -c 20000 /usr/bin/mksquashfs > $d/f$i; done; ' +
    'mksquashfs $d /tmp/out.snap -noappend -comp xz -quiet -no-progress; for i in $(seq 1 300); do ls / >/dev/null; done',
];

export async function benchEmulation(): Promise<{ arch: string; seconds: number }[] | string> {
  const lxd = new Lxd();
  if (!(await lxd.available())) return 'LXD is not running (scripts/system/lxd-up.sh)';
  const results: { arch: string; seconds: number }[] = [];
  for (const arch of ['amd64', 'arm64', 'ppc64el']) {
    const image = `osa-${arch}`;
    if (!(await lxd.imageExists(image)))
      return `image ${image} is missing (scripts/system/make-image.sh ${arch})`;
    const name = `osa-bench-${arch}-${process.pid}`;
    await lxd.launch(image, name, { 'raw.lxc': 'lxc.init.cmd = /bin/sleep infinity' });
    try {
      await lxd.execIn(name, ['true']);
      const t0 = process.hrtime.bigint();
      const run = await lxd.execIn(name, STEP);
      if (run.code !== 0) throw new Error(`${arch}: ${run.stderr}`);
      results.push({ arch, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    } finally {
      await lxd.delete(name);
    }
  }
  return results;
}
