// The benchmarks' git server, in its own process (see git-server-process.mjs).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServerStats {
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Listings answered from a recording (`replayListings`). */
  readonly replayed: number;
  /** CPU seconds the server has used so far: its node side and its git processes. */
  readonly cpu: number;
}

export interface ServerProcess {
  readonly url: string;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

export function startServerProcess(options: {
  root: string;
  link?: { bytesPerSecond: number; latencyMs: number };
  replayListings?: boolean;
}): Promise<ServerProcess> {
  const child = fork(
    fileURLToPath(new URL('./git-server-process.mjs', import.meta.url)),
    [JSON.stringify(options)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const next = <T>(key: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message[key] as T);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`the git server process exited (${code}) before it answered`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return next<string>('url').then((url) => ({
    url,
    stats: () => {
      const answer = next<ServerStats>('stats');
      child.send('stats');
      return answer;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  }));
}
