import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { runBundle } from './helpers/run-action.js';
import { snapOpenstackProject } from './helpers/snaps.js';
import { startSnapStore } from './helpers/snap-store.js';
import { describeWhen, SQUASHFS } from './helpers/system.js';

const withSnaps = describeWhen(SQUASHFS, 'one-step action tests with real .snap files');
const CREDENTIALS = Buffer.from('{"t":"u1-macaroon","v":{"r":"one-step"}}').toString('base64');

let requirements: Awaited<ReturnType<typeof serveRequirements>>;
let store: Awaited<ReturnType<typeof startSnapStore>>;
beforeAll(async () => {
  requirements = await serveRequirements();
  store = await startSnapStore({
    accounts: { [CREDENTIALS]: { snaps: ['openstack'] } },
    tracks: { openstack: ['latest', '2025.1'] },
  });
});
afterAll(async () => {
  await requirements?.stop();
  await store?.stop();
});

/** snap-openstack's stable/2025.1 snapcraft.yaml with the in-container stand-in beside it. */
function project(): string {
  return snapOpenstackProject('osa-one-step-');
}

function env(eventName: string): Record<string, string> {
  const event = join(tempDir('osa-event-'), 'event.json');
  writeFileSync(event, JSON.stringify({ repository: { fork: false } }));
  return {
    PATH: `${join(ROOT, 'test/standins')}:${process.env.PATH}`,
    HOME: tempDir('osa-home-'),
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: event,
    GITHUB_REF_NAME: 'stable/2025.1',
    ...store.env,
  };
}

withSnaps('the one-step action (root action.yml), from its bundle', () => {
  it('constrains, builds and publishes to the release track, from one bundle', async () => {
    const run = await runBundle(
      'snap',
      {
        project: project(),
        'requirements-repo': requirements.url,
        constraints: 'true',
        setup: 'false',
        publish: 'true',
        'store-credentials': CREDENTIALS,
      },
      env('push'),
    );
    expect(run.stdout).not.toContain('::error::');
    expect(run.status).toBe(0);
    expect(run.outputs).toMatchObject({
      series: '2025.1',
      track: '2025.1',
      channel: '2025.1/edge',
    });
    expect(existsSync(run.outputs.snap!)).toBe(true);
    const revisions = JSON.parse(run.outputs.revisions!) as Record<string, number>;
    expect(store.released('openstack')).toMatchObject({ '2025.1/edge|amd64': revisions.amd64 });
    expect(run.summary).toContain('openstack 2025.1 for amd64');
    expect(run.summary).toContain('openstack → 2025.1/edge (released)');
  });

  it('refuses to publish a pull request before it builds anything', async () => {
    const before = store.log.length;
    const run = await runBundle(
      'snap',
      {
        project: project(),
        'requirements-repo': requirements.url,
        constraints: 'true',
        setup: 'false',
        publish: 'true',
        'store-credentials': CREDENTIALS,
      },
      { ...env('pull_request'), GITHUB_BASE_REF: 'stable/2025.1' },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/::error::publish does not run for 'pull_request' events/);
    expect(run.outputs.snap).toBeUndefined();
    expect(store.log.length).toBe(before);
  });
});
