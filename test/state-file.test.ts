// The state file's compare-and-swap, deterministically: a writer that comes in between is never
// written over; the update is applied again to what that writer left. The client is a stand-in
// of the three contents/refs calls, enforcing the blob SHA as GitHub's contents API does (409).
import { describe, expect, it } from '@jest/globals';
import { StateFile, type GitHubClient, type StateCodec } from '../src/github/index.js';

interface Counter {
  readonly counts: Record<string, number>;
}
const CODEC: StateCodec<Counter> = {
  empty: { counts: {} },
  kind: 'a counter',
  read: (value) => (value && typeof value === 'object' ? (value as Counter) : null),
};

/** An in-memory branch file, and a hook that runs before each PUT is judged (another writer). */
function contentsStandIn(initial: Counter) {
  let file = { sha: 'blob-0', text: JSON.stringify(initial) };
  let version = 0;
  const puts: string[] = [];
  const world = {
    beforePut: (): void => undefined,
    puts,
    state: (): Counter => JSON.parse(file.text) as Counter,
    write: (state: Counter): void => {
      file = { sha: `blob-${++version}`, text: JSON.stringify(state) };
    },
  };
  const client = {
    rest: {
      git: { getRef: async () => ({ data: { object: { sha: 'c0ffee' } } }) },
      repos: {
        getContent: async () => ({
          data: { sha: file.sha, content: Buffer.from(file.text).toString('base64') },
        }),
        createOrUpdateFileContents: async (request: { content: string; sha?: string }) => {
          world.beforePut();
          puts.push(request.sha ?? '');
          if (request.sha !== file.sha)
            throw Object.assign(new Error('sha does not match'), { status: 409 });
          world.write(JSON.parse(Buffer.from(request.content, 'base64').toString('utf8')));
          return { data: {} };
        },
      },
    },
  } as unknown as GitHubClient;
  return { client, world };
}

const bump =
  (key: string) =>
  (state: Counter): { state: Counter; result: number } => {
    const value = (state.counts[key] ?? 0) + 1;
    return { state: { counts: { ...state.counts, [key]: value } }, result: value };
  };

const stateFile = (client: GitHubClient) =>
  new StateFile(client, { owner: 'o', repo: 'r' }, 'state', 'state.json', CODEC, async () => {});

describe('StateFile.update', () => {
  it('applies its step again to what a writer in between left, never over it', async () => {
    const { client, world } = contentsStandIn({ counts: { a: 1 } });
    let once = true;
    world.beforePut = () => {
      // Another run writes first, once: our PUT names a blob that is no longer the file's.
      if (once) world.write({ counts: { ...world.state().counts, other: 1 } });
      once = false;
    };
    const result = await stateFile(client).update(bump('a'), (n) => `a is ${n}`);
    expect(result).toBe(2);
    expect(world.state()).toEqual({ counts: { a: 2, other: 1 } });
    expect(world.puts).toEqual(['blob-0', 'blob-1']);
  });

  it('writes nothing when its step changes nothing', async () => {
    const { client, world } = contentsStandIn({ counts: { a: 1 } });
    await stateFile(client).update(
      (state) => ({ state, result: null }),
      () => 'nothing',
    );
    expect(world.puts).toEqual([]);
  });

  it('gives up after its tries, saying it cannot write, when every write meets another', async () => {
    const { client, world } = contentsStandIn({ counts: {} });
    world.beforePut = () => world.write({ counts: { ...world.state().counts, other: 1 } });
    await expect(stateFile(client).update(bump('a'), () => 'bump')).rejects.toThrow(
      /^cannot write state\.json on state: sha does not match$/,
    );
    expect(world.puts).toHaveLength(12);
    expect(world.state().counts.a).toBeUndefined();
  });
});
