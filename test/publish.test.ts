import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { ConfigurationError } from '../src/platform/errors.js';
import { publish, type PublishOptions } from '../src/store/publish.js';
import { SnapcraftCli } from '../src/snapcraft/cli.js';
import { parseChannel } from '../src/store/channel.js';
import { ROOT } from './helpers/fixtures.js';
import { startSnapStore } from './helpers/snap-store.js';
import { makeBuild } from './helpers/snaps.js';
import { describeWhen, SQUASHFS } from './helpers/system.js';

const withSnaps = describeWhen(SQUASHFS, 'publish tests with real .snap files');

const STANDIN = join(ROOT, 'test/standins/snapcraft');
const ARCHES = ['amd64', 'arm64', 'ppc64el'];
// Each test publishes its own snap, so store state never leaks between tests.
const SNAPS = [
  'keystone',
  'glance',
  'nova',
  'neutron',
  'cinder',
  'horizon',
  'placement',
  'heat',
  'barbican',
  'octavia',
  'designate',
  'manila',
];
let store: Awaited<ReturnType<typeof startSnapStore>>;

beforeAll(async () => {
  store = await startSnapStore({
    accounts: {
      'cred-good': { snaps: SNAPS },
      'cred-expired': { snaps: ['keystone'], expired: true },
      'cred-other-snap': { snaps: ['glance'] },
    },
    tracks: Object.fromEntries(SNAPS.map((n) => [n, ['latest', '2025.1', '2026.1']])),
  });
});
afterAll(async () => store?.stop());

const retries: number[] = [];
function options(
  files: string[],
  extra: Partial<PublishOptions> & { credentials?: string } = {},
): PublishOptions {
  return {
    files,
    channel: parseChannel('2025.1/edge'),
    release: true,
    cli: new SnapcraftCli({
      command: STANDIN,
      credentials: extra.credentials ?? 'cred-good',
      env: store.env,
    }),
    retry: {
      attempts: 3,
      baseDelayMs: 1000,
      maxDelayMs: 4000,
      sleep: async (ms) => void retries.push(ms),
      random: () => 0.5,
    },
    ...extra,
  };
}

withSnaps('publish, through a stand-in snapcraft against a store on 127.0.0.1', () => {
  it('uploads every architecture, then releases them all to the release track', async () => {
    const files = makeBuild('keystone', '27.0.0', ARCHES, { build: 'a' });
    const result = await publish(options(files));
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ name: 'keystone', channel: '2025.1/edge', released: true });
    expect(result.snaps.map((s) => [s.arch, s.status, s.released])).toEqual(
      ARCHES.map((a) => [a, 'uploaded', true]),
    );
    const revisions = result.snaps.map((s) => s.revision);
    expect(store.released('keystone')).toEqual({
      '2025.1/edge|amd64': revisions[0],
      '2025.1/edge|arm64': revisions[1],
      '2025.1/edge|ppc64el': revisions[2],
    });
  });

  it('treats re-uploading the same files as success, with the existing revisions', async () => {
    const files = makeBuild('glance', '30.0.0', ['amd64', 'arm64'], { build: 'b' });
    const first = await publish(options(files));
    const again = await publish(options(files));
    expect(again.snaps.map((s) => s.status)).toEqual(['duplicate', 'duplicate']);
    expect(again.snaps.map((s) => s.revision)).toEqual(first.snaps.map((s) => s.revision));
    expect(again.released).toBe(true);
  });

  it('waits out an earlier upload still in review, then succeeds', async () => {
    retries.length = 0;
    store.faults.push.push({ kind: 'review-pending' }, { kind: 'review-pending' });
    const result = await publish(options(makeBuild('nova', '31.0.0', ['amd64'], { build: 'c' })));
    expect(result.released).toBe(true);
    expect(retries).toEqual([750, 1500]); // jittered exponential: 1 s then 2 s, at random 0.5
  });

  it('gives up on a review that does not finish, saying why, and releases nothing', async () => {
    store.faults.push.push(
      { kind: 'review-pending' },
      { kind: 'review-pending' },
      { kind: 'review-pending' },
    );
    const result = await publish(
      options(makeBuild('neutron', '26.0.0', ['amd64', 'arm64'], { build: 'd' })),
    );
    expect(result.released).toBe(false);
    expect(result.snaps.map((s) => s.status)).toEqual(['failed', 'skipped']);
    expect(result.error).toMatch(
      /still reviewing an earlier upload.*Nothing was released to 2025\.1\/edge\.$/,
    );
    expect(store.released('neutron')).toEqual({});
  });

  it('stops at a revision that needs manual review and releases nothing, naming what was uploaded', async () => {
    store.faults.push.push({ kind: 'none' }, { kind: 'manual-review' });
    const result = await publish(options(makeBuild('cinder', '26.0.0', ARCHES, { build: 'e' })));
    expect(result.snaps.map((s) => s.status)).toEqual(['uploaded', 'failed', 'skipped']);
    expect(result.snaps[1]!.revision).toEqual(expect.any(Number));
    expect(result.error).toMatch(
      /will need manual review before it can be released\. A store reviewer must approve it.*left unreleased: amd64 r\d+\.$/,
    );
    expect(store.released('cinder')).toEqual({});
  });

  it('tells how to re-export expired credentials', async () => {
    const result = await publish(
      options(makeBuild('keystone', '27.0.1', ['amd64']), { credentials: 'cred-expired' }),
    );
    expect(result.snaps[0]!.status).toBe('failed');
    expect(result.error).toMatch(
      /credentials are no longer valid.*snapcraft export-login --snaps NAME/,
    );
  });

  it('says when the credentials do not cover this snap', async () => {
    const result = await publish(
      options(makeBuild('keystone', '27.0.2', ['amd64']), { credentials: 'cred-other-snap' }),
    );
    expect(result.error).toMatch(/Permission denied.*package_push and package_release/);
  });

  it('retries a 503, then succeeds', async () => {
    retries.length = 0;
    store.faults.upload.push({ kind: 'http', status: 503 });
    const result = await publish(
      options(makeBuild('horizon', '25.0.0', ['amd64', 'arm64'], { build: 'f' })),
    );
    expect(result.released).toBe(true);
    expect(retries).toHaveLength(1);
  });

  it('releases nothing when one architecture fails to upload', async () => {
    store.faults.upload.push(
      { kind: 'none' },
      { kind: 'http', status: 503 },
      { kind: 'http', status: 503 },
      { kind: 'http', status: 503 },
    );
    const result = await publish(options(makeBuild('placement', '13.0.0', ARCHES, { build: 'g' })));
    expect(result.snaps.map((s) => s.status)).toEqual(['uploaded', 'failed', 'skipped']);
    expect(result.released).toBe(false);
    expect(result.error).toMatch(
      /503 Service Unavailable.*Nothing was released to 2025\.1\/edge; uploaded and left unreleased: amd64 r\d+\./,
    );
    expect(store.released('placement')).toEqual({});
  });

  it('says exactly what the channel holds when a release fails halfway', async () => {
    store.faults.release.push(
      { kind: 'none' },
      { kind: 'http', status: 500 },
      { kind: 'http', status: 500 },
      { kind: 'http', status: 500 },
    );
    const result = await publish(options(makeBuild('heat', '24.0.0', ARCHES, { build: 'h' })));
    expect(result.snaps.map((s) => s.released)).toEqual([true, false, false]);
    expect(result.error).toMatch(
      /Releasing arm64 r\d+ to 2025\.1\/edge failed.*now has amd64 r\d+ from this build.*rerun/,
    );
  });

  it('reports a track the store has not granted', async () => {
    const result = await publish(
      options(makeBuild('barbican', '20.0.0', ['amd64'], { build: 'i' }), {
        channel: parseChannel('2024.1/edge'),
      }),
    );
    expect(result.error).toMatch(/Invalid track '2024\.1' for barbican.*Nothing was released/);
  });

  it('uploads without releasing when told to', async () => {
    const result = await publish(
      options(makeBuild('octavia', '16.0.0', ['amd64'], { build: 'j' }), { release: false }),
    );
    expect(result.released).toBe(false);
    expect(result.error).toBeUndefined();
    expect(result.snaps[0]!.status).toBe('uploaded');
    expect(store.released('octavia')).toEqual({});
  });

  describe('checks before any upload', () => {
    const refused = async (files: string[], extra: Partial<PublishOptions>, message: RegExp) => {
      const before = store.log.length;
      const error = await publish(options(files, extra)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(message);
      expect(store.log.length).toBe(before);
    };
    it('grade devel cannot go to candidate or stable', () =>
      refused(
        makeBuild('designate', '20.0.0', ['amd64']),
        { channel: parseChannel('2025.1/candidate') },
        /grade devel, which the store refuses on 2025\.1\/candidate/,
      ));
    it('one snap per step', () =>
      refused(
        [
          ...makeBuild('designate', '20.0.0', ['amd64']),
          ...makeBuild('manila', '20.0.0', ['arm64']),
        ],
        {},
        /different snaps \(designate, manila\)/,
      ));
    it('one file per architecture', () =>
      refused(
        [...makeBuild('manila', '20.0.0', ['amd64']), ...makeBuild('manila', '20.0.1', ['amd64'])],
        {},
        /are both amd64/,
      ));
    it('the snap the workflow expects', () =>
      refused(
        makeBuild('manila', '20.0.0', ['amd64']),
        { expectedName: 'keystone' },
        /are 'manila', but 'snap-name' says 'keystone'/,
      ));
    it('a file that is not a snap', () =>
      refused([join(ROOT, 'package.json')], {}, /is not a snap/));
  });
});

describe('store channels', () => {
  it.each([
    ['2025.1/edge', { track: '2025.1', risk: 'edge', branch: null }],
    ['edge', { track: 'latest', risk: 'edge', branch: null }],
    ['latest/beta/fix-123', { track: 'latest', risk: 'beta', branch: 'fix-123' }],
  ])('%s', (text, channel) => expect(parseChannel(text)).toEqual(channel));
  it.each(['2025.1', '2025.1/edgy', 'a/b/c/d', '2025.1/edge;rm'])('refuses %s', (text) =>
    expect(() => parseChannel(text)).toThrow(ConfigurationError),
  );
});
