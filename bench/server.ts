// The benchmarks' git server, in its own process (see git-server-process.mjs).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface ServerStats {
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Listings answered from a recording (`replayListings`). */
  readonly replayed: number;
  /** CPU seconds the server has used so far: its node side and its git processes. */
  readonly cpu: number;
}

/** What the server did while some work ran. */
export interface ServerUse {
  /** Bytes on the wire, both ways. */
  readonly bytes: number;
  readonly cpu: number;
  readonly replayed: number;
}

export interface ServerProcess {
  readonly url: string;
  /** `work`'s result, with what the server did while it ran. */
  during<T>(work: () => Promise<T>): Promise<ServerUse & { result: T }>;
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
  // Each question carries an id its answer repeats; a server that dies fails what is pending.
  const pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  let asked = 0;
  let gone: Error | null = null;
  let exited = false;
  const fail = (error: Error) => {
    gone ??= error;
    for (const { reject } of pending.values()) reject(gone);
    pending.clear();
  };
  child.on('message', (message: { id: number; answer: unknown }) => {
    pending.get(message.id)?.resolve(message.answer);
    pending.delete(message.id);
  });
  child.on('error', fail);
  child.on('exit', (code, signal) => {
    exited = true;
    fail(new Error(`the git server process exited (${code ?? signal})`));
  });
  const ask = <T>(question: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (gone) return reject(gone);
      const id = ++asked;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, question }, (error) => error && fail(error));
    });
  // The server says its URL (answer 0) once it listens.
  const listening = new Promise<string>((resolve, reject) =>
    pending.set(0, { resolve: resolve as (value: unknown) => void, reject }),
  );
  return listening.then((url) => ({
    url,
    during: async <T>(work: () => Promise<T>) => {
      const before = await ask<ServerStats>('stats');
      const result = await work();
      const after = await ask<ServerStats>('stats');
      return {
        result,
        bytes: after.bytesIn + after.bytesOut - before.bytesIn - before.bytesOut,
        cpu: after.cpu - before.cpu,
        replayed: after.replayed - before.replayed,
      };
    },
    stop: async () => {
      if (exited) return;
      const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await ask('stop').catch(() => {});
      await exit;
    },
  }));
}
