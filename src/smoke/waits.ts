import { connect } from 'node:net';
import { StepFailure } from './engine.js';

/** Waits `ms`, or less when `signal` aborts; the listener goes with the wait (polls add many). */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Whether something accepts TCP connections on host:port (within `timeoutMs`). */
export function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until a TCP port accepts connections (snap-test's `nc -z`, with a deadline). */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    if (await canConnect(host, port, 1000)) return;
    await sleep(200, signal);
  }
  throw new StepFailure(
    `nothing listens on ${host}:${port} after ${Math.round(timeoutMs / 1000)} s`,
  );
}

/**
 * Waits until a URL answers with an accepted status. A port that accepts connections but never
 * answers (a hung service) is told apart from a closed one in the message.
 */
export async function waitForHttp(
  url: string,
  options: {
    timeoutMs: number;
    accept?: (status: number) => boolean;
    requestTimeoutMs?: number;
    signal?: AbortSignal;
  },
): Promise<number> {
  const accept = options.accept ?? ((status: number) => status < 500);
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer';
  let listening = false;
  const { hostname, port, protocol } = new URL(url);
  const portNumber = Number(port || (protocol === 'https:' ? 443 : 80));
  while (Date.now() < deadline && !options.signal?.aborted) {
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(
          Math.min(options.requestTimeoutMs ?? 5000, Math.max(1, deadline - Date.now())),
        ),
      });
      await response.arrayBuffer();
      if (accept(response.status)) return response.status;
      last = `HTTP ${response.status}`;
    } catch (error) {
      listening = listening || (await canConnect(hostname, portNumber, 500));
      last =
        (error as Error).name === 'TimeoutError'
          ? 'the request timed out'
          : 'the connection failed';
    }
    await sleep(250, options.signal);
  }
  const seconds = Math.round(options.timeoutMs / 1000);
  throw new StepFailure(
    listening && last === 'the request timed out'
      ? `${hostname}:${portNumber} accepts connections but ${url} did not answer within ${seconds} s (the service is hung)`
      : `${url} did not answer within ${seconds} s (last: ${last})`,
  );
}

/**
 * Asks `done` every `intervalMs` until it holds; past `timeoutMs` (or when `signal` aborts) fails
 * with `what()` (read then, so it can say what the last try saw) and the bound.
 */
export async function pollUntil(
  done: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs: number; what: () => string; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline || options.signal?.aborted)
      throw new StepFailure(`${options.what()} within ${Math.round(options.timeoutMs / 1000)} s`);
    await sleep(options.intervalMs, options.signal);
  }
}
