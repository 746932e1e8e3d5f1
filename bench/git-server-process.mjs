// The stand-in git server (scripts/lib/git-http-server.mjs) in a process of its own, for the
// benchmarks: servers are not on a runner, so their node side must not share our event loop,
// and their CPU (this process and its git children) is theirs to report, not ours to carry.
// Started by `startServerProcess` (bench/server.ts) with its options as argv[2] (JSON); answers
// IPC questions { id, question: 'stats' | 'stop' } with { id, answer }; its URL is answer 0.
import { readFileSync } from 'node:fs';
import { startGitHttpServer } from '../scripts/lib/git-http-server.mjs';

/** CPU seconds of this process and its reaped children (git), from /proc (USER_HZ = 100). */
function cpu() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields 14 to 17 (utime, stime, cutime, cstime) of stat(5), after the name's closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
}

const server = await startGitHttpServer(JSON.parse(process.argv[2]));
process.on('message', async ({ id, question }) => {
  if (question === 'stats') {
    // The CPU of a git process counts once it is reaped: wait (a little) for the last ones.
    for (let waited = 0; server.stats.running > 0 && waited < 2000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    process.send({ id, answer: { ...server.stats, cpu: cpu() } });
  }
  if (question === 'stop') {
    await server.stop();
    process.send({ id, answer: true }, () => process.exit(0));
  }
});
// The parent gone, so is the server.
process.on('disconnect', () => process.exit(0));
process.send({ id: 0, answer: server.url });
