import { ConfigurationError, errorMessage, ExternalError } from '../platform/index.js';
import type { GitHubClient } from './api.js';

/** What a state file holds: its empty value, and a reader that refuses a file of another kind. */
export interface StateCodec<T> {
  readonly empty: T;
  /** The state, or null when the JSON is not this kind of state file. */
  read(value: unknown): T | null;
  /** What the file is, for the refusal ("a fleet state file (version 1)"). */
  readonly kind: string;
}

/** Writers in between are expected (runs race by design): many tries, a little apart. */
const ATTEMPTS = 12;

/**
 * A JSON state file on a branch of a repository, read and written with the contents API. A write
 * names the blob it replaces, and GitHub refuses one whose blob is no longer the file's (409, or
 * 422 when the file appeared meanwhile): that refusal is what makes an update a compare-and-swap,
 * and on it the update is applied again to the newer state, never written over it.
 */
export class StateFile<T> {
  constructor(
    private readonly client: GitHubClient,
    private readonly repository: { owner: string; repo: string },
    private readonly branch: string,
    private readonly path: string,
    private readonly codec: StateCodec<T>,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** The state and the file's blob SHA (null when there is no file yet). */
  async read(): Promise<{ state: T; sha: string | null }> {
    try {
      const { data } = await this.client.rest.repos.getContent({
        ...this.repository,
        path: this.path,
        ref: this.branch,
      });
      const file = data as { content?: string; sha: string };
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(Buffer.from(file.content ?? '', 'base64').toString('utf8'));
      } catch {
        parsed = null;
      }
      const state = this.codec.read(parsed);
      if (state === null)
        throw new ConfigurationError(
          `${this.path} on ${this.branch} is not ${this.codec.kind}: move it away or choose another 'state-branch'.`,
        );
      return { state, sha: file.sha };
    } catch (error) {
      if ((error as { status?: number }).status === 404)
        return { state: this.codec.empty, sha: null };
      throw error;
    }
  }

  /**
   * Applies `step` to the newest state and writes what it returns, creating the branch from the
   * default branch when it is not there yet; the result of the step that was written is returned.
   * Another writer in between means read again and apply `step` again: it must decide from the
   * state it is given, nothing else. A step that changes nothing writes nothing.
   */
  async update<R>(
    step: (state: T) => Promise<{ state: T; result: R }> | { state: T; result: R },
    message: (result: R) => string,
  ): Promise<R> {
    await this.ensureBranch();
    for (let attempt = 1; ; attempt++) {
      const { state, sha } = await this.read();
      const next = await step(state);
      if (sha && JSON.stringify(next.state) === JSON.stringify(state)) return next.result;
      try {
        await this.client.rest.repos.createOrUpdateFileContents({
          ...this.repository,
          path: this.path,
          branch: this.branch,
          message: message(next.result),
          content: Buffer.from(`${JSON.stringify(next.state, null, 2)}\n`).toString('base64'),
          ...(sha ? { sha } : {}),
        });
        return next.result;
      } catch (error) {
        const status = (error as { status?: number }).status;
        if ((status === 409 || status === 422) && attempt < ATTEMPTS) {
          // Apart by a random share of a growing step, so racing writers stop meeting.
          await this.sleep(Math.random() * Math.min(4000, 100 * 2 ** attempt));
          continue;
        }
        throw new ExternalError(
          `cannot write ${this.path} on ${this.branch}: ${errorMessage(error)}`,
          { cause: error },
        );
      }
    }
  }

  private async ensureBranch(): Promise<void> {
    try {
      await this.client.rest.git.getRef({ ...this.repository, ref: `heads/${this.branch}` });
      return;
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
    const { data: repo } = await this.client.rest.repos.get(this.repository);
    const { data: head } = await this.client.rest.git.getRef({
      ...this.repository,
      ref: `heads/${repo.default_branch}`,
    });
    try {
      await this.client.rest.git.createRef({
        ...this.repository,
        ref: `refs/heads/${this.branch}`,
        sha: head.object.sha,
      });
    } catch (error) {
      // Another run created it first.
      if ((error as { status?: number }).status !== 422) throw error;
    }
  }
}

/**
 * Writes a text file on a branch that exists (a state branch), unless it holds that text already;
 * a writer in between is written over on the next try (the newest text wins: a status page).
 * Returns whether it wrote.
 */
export async function putBranchFile(
  client: GitHubClient,
  repository: { owner: string; repo: string },
  branch: string,
  path: string,
  text: string,
  message: string,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    let sha: string | undefined;
    try {
      const { data } = await client.rest.repos.getContent({ ...repository, path, ref: branch });
      const file = data as { content?: string; sha: string };
      if (Buffer.from(file.content ?? '', 'base64').toString('utf8') === text) return false;
      sha = file.sha;
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
    try {
      await client.rest.repos.createOrUpdateFileContents({
        ...repository,
        path,
        branch,
        message,
        content: Buffer.from(text).toString('base64'),
        ...(sha ? { sha } : {}),
      });
      return true;
    } catch (error) {
      const status = (error as { status?: number }).status;
      if ((status === 409 || status === 422) && attempt < 3) continue;
      throw new ExternalError(`cannot write ${path} on ${branch}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }
}
