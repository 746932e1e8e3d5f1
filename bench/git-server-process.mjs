// The stand-in git server (scripts/lib/git-http-server.mjs) in a process of its own, for the
// benchmarks: servers are not on a runner, so their node side must not share our event loop,
// and their CPU (this process and its git children) is theirs to report, not ours to carry.
// Started by `startServerProcess` (bench/server.ts) with its options as argv[2] (JSON); answers
// IPC messages 'stats' (bytes, replays, CPU seconds so far) and 'stop'.
import { readFileSync } from 'node:fs';
import { startGitHttpServer } from '../scripts/lib/git-http-server.mjs';

/** CPU seconds of this process and its finished children (git), from /proc. */
function cpu() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // Fields 14 to 17 (utime, stime, cutime, cstime) of stat(5), counted from the state field (3).
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
}

const server = await startGitHttpServer(JSON.parse(process.argv[2]));
process.on('message', async (message) => {
  if (message === 'stats') process.send({ stats: { ...server.stats, cpu: cpu() } });
  if (message === 'stop') {
    await server.stop();
    process.exit(0);
  }
});
process.send({ url: server.url });
