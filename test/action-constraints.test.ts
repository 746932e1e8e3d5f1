import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fixtureCopy, ROOT, tempDir } from './helpers/fixtures.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { runBundle } from './helpers/run-action.js';

let server: Awaited<ReturnType<typeof serveRequirements>>;
beforeAll(async () => {
  server = await serveRequirements();
});
afterAll(async () => server?.stop());

describe('the constraints action, from its committed bundle', () => {
  it('constrains the 2017 glance snap for a pull request against stable/ocata', async () => {
    const project = fixtureCopy('openstack-archive/snap-glance/master');
    const run = await runBundle(
      'constraints',
      { project, 'requirements-repo': server.url },
      // A pull request: the base branch is what is being built for.
      {
        GITHUB_BASE_REF: 'stable/ocata',
        GITHUB_REF: 'refs/pull/7/merge',
        GITHUB_REF_NAME: '7/merge',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.outputs).toMatchObject({
      series: 'ocata',
      'series-name': 'ocata',
      'release-id': '',
      track: 'ocata',
      'constraints-ref': 'ocata-eol',
      changed: 'true',
      'constraints-file': join(project, 'snap/local/upper-constraints.txt'),
      'snapcraft-yaml': join(project, 'snapcraft.yaml'),
    });
    expect(run.outputs['constraints-commit']).toMatch(/^[0-9a-f]{40}$/);
    const manifest = JSON.parse(run.outputs.manifest!) as {
      constraints: { commit: string };
      snap: Record<string, unknown>;
    };
    expect(manifest.constraints.commit).toBe(run.outputs['constraints-commit']);
    expect(manifest.snap).toMatchObject({
      name: 'glance',
      base: null,
      grade: 'devel',
      changed: true,
    });
    expect(run.summary).toContain('<h3>OpenStack constraints for glance</h3>');
    expect(run.summary).toContain('<code>ocata-eol</code>');
    expect(run.summary).toContain(
      '+    constraints: $SNAPCRAFT_STAGE/../snap/local/upper-constraints.txt',
    );
    expect(run.stdout).toContain('::group::Resolve and apply OpenStack constraints');
  });

  it('exits 1 with one ::error:: line saying what to change, and leaves the snap alone', async () => {
    const project = fixtureCopy('openstack-archive/snap-glance/master');
    const before = readFileSync(join(project, 'snapcraft.yaml'), 'utf8');
    const run = await runBundle('constraints', {
      project,
      ref: 'stable/2025.1 && reboot',
      'requirements-repo': server.url,
    });
    expect(run.status).toBe(1);
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error::'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/'stable\/2025\.1 && reboot' is not a branch or tag name/);
    expect(readFileSync(join(project, 'snapcraft.yaml'), 'utf8')).toBe(before);
    expect(run.outputs).toEqual({});
  });

  it('writes its output only inside the workspace or the runner temp', async () => {
    const project = fixtureCopy('openstack-archive/snap-glance/master');
    const env = { GITHUB_WORKSPACE: project, GITHUB_REF_NAME: 'stable/ocata' };
    const inputs = { project: '.', 'requirements-repo': server.url };
    const escaped = await runBundle(
      'constraints',
      { ...inputs, output: '../../escaped.yaml' },
      env,
    );
    expect(escaped.status).toBe(1);
    expect(escaped.stdout).toMatch(
      /::error::'output' \('..\/..\/escaped.yaml'\) is outside the workspace/,
    );
    expect(existsSync(join(project, '../../escaped.yaml'))).toBe(false);
    const inside = await runBundle('constraints', { ...inputs, output: 'out/snapcraft.yaml' }, env);
    expect(inside.status).toBe(0);
    expect(readFileSync(join(project, 'out/snapcraft.yaml'), 'utf8')).toContain(
      'constraints: $SNAPCRAFT_STAGE/../snap/local/upper-constraints.txt',
    );
  });

  it('writes nothing through a symbolic link that leaves the project', async () => {
    const project = fixtureCopy('openstack-archive/snap-glance/master');
    const outside = tempDir('osa-outside-');
    writeFileSync(join(outside, 'victim.txt'), 'untouched\n');
    mkdirSync(join(project, 'snap/local'), { recursive: true });
    symlinkSync(join(outside, 'victim.txt'), join(project, 'snap/local/upper-constraints.txt'));
    symlinkSync(join(outside, 'nothing-yet.yaml'), join(project, 'out.yaml'));
    const env = { GITHUB_WORKSPACE: project, GITHUB_REF_NAME: 'stable/ocata' };
    const inputs = { project: '.', 'requirements-repo': server.url };
    const linked = await runBundle('constraints', inputs, env);
    expect(linked.status).toBe(1);
    expect(linked.stdout).toMatch(/::error::the constraints file .* is outside/);
    const dangling = await runBundle('constraints', { ...inputs, output: 'out.yaml' }, env);
    expect(dangling.status).toBe(1);
    expect(dangling.stdout).toMatch(
      /::error::'output' \('out.yaml'\) is, or is under, a symbolic link to nothing/,
    );
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('untouched\n');
    expect(readdirSync(outside)).toEqual(['victim.txt']);
  });

  it('refuses a non-boolean for a boolean input', async () => {
    const project = fixtureCopy('openstack-archive/snap-glance/master');
    const run = await runBundle('constraints', {
      project,
      ref: 'stable/ocata',
      'requirements-repo': server.url,
      'dry-run': 'yes please',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/::error::.*dry-run/);
  });
});

describe('the constraints action with the Actions cache', () => {
  // A stand-in for the runner's cache service (v2, Twirp), as strict as it about the token: the
  // bundle loads the cache SDK only when a cache is used, and this proves the loaded SDK reaches
  // the service and that a miss (and a refused save) costs the run nothing.
  it('asks the cache service for the constraints, and builds them itself on a miss', async () => {
    const calls: { method: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
    const service = createServer((request, response) => {
      let text = '';
      request.on('data', (c: Buffer) => (text += c.toString('utf8')));
      request.on('end', () => {
        const method = request.url?.split('/').pop() ?? '';
        calls.push({ method, auth: request.headers.authorization, body: JSON.parse(text || '{}') });
        if (request.headers.authorization !== 'Bearer runtime-token') {
          response.writeHead(401).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: false }));
      });
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const { port } = service.address() as AddressInfo;
    try {
      const project = fixtureCopy('openstack-archive/snap-glance/master');
      const run = await runBundle(
        'constraints',
        { project, ref: 'stable/ocata', 'requirements-repo': server.url },
        {
          ACTIONS_CACHE_SERVICE_V2: 'true',
          ACTIONS_RESULTS_URL: `http://127.0.0.1:${port}/`,
          ACTIONS_RUNTIME_TOKEN: 'runtime-token',
        },
      );
      expect(run.status).toBe(0);
      expect(run.outputs['constraints-ref']).toBe('ocata-eol');
      const commit = run.outputs['constraints-commit'];
      expect(calls.map((c) => c.method)).toEqual(['GetCacheEntryDownloadURL', 'CreateCacheEntry']);
      expect(calls.every((c) => c.auth === 'Bearer runtime-token')).toBe(true);
      expect(calls[0]!.body).toMatchObject({ key: `openstack-upper-constraints-${commit}` });
      expect(run.summary).toContain('miss');
    } finally {
      await new Promise((resolve) => service.close(resolve));
    }
  });
});

describe('the constraints action saving to and restoring from the Actions cache', () => {
  // A stand-in for the cache service (v2, Twirp, strict about the token) and its blob storage,
  // which keeps idle connections open for two minutes, as a real service's load balancer may: the
  // real cache client saves and restores through it, and the action must still exit as soon as
  // its work is done.
  it('saves, restores, and exits at once although the service keeps its connections open', async () => {
    const calls: string[] = [];
    let blob: Buffer | null = null;
    let entryKey = '';
    const service = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const { port } = service.address() as AddressInfo;
        const blobUrl = `http://127.0.0.1:${port}/blobs/entry?sig=signed`;
        const path = request.url ?? '';
        if (path.startsWith('/blobs/')) {
          calls.push(`${request.method} blob`);
          if (!path.includes('sig=signed')) return void response.writeHead(403).end();
          if (request.method === 'PUT') {
            blob = Buffer.concat(chunks);
            return void response.writeHead(201, { etag: '"1"' }).end();
          }
          return void response.writeHead(200, { 'content-length': blob!.length }).end(blob);
        }
        const method = path.split('/').pop() ?? '';
        calls.push(method);
        if (request.headers.authorization !== 'Bearer runtime-token')
          return void response.writeHead(401).end();
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { key?: string };
        response.writeHead(200, { 'content-type': 'application/json' });
        if (method === 'GetCacheEntryDownloadURL')
          return void response.end(
            JSON.stringify(
              blob && body.key === entryKey
                ? { ok: true, signed_download_url: blobUrl, matched_key: entryKey }
                : { ok: false },
            ),
          );
        if (method === 'CreateCacheEntry') {
          entryKey = body.key ?? '';
          return void response.end(JSON.stringify({ ok: true, signed_upload_url: blobUrl }));
        }
        if (method === 'FinalizeCacheEntryUpload')
          return void response.end(JSON.stringify({ ok: true, entry_id: '1' }));
        response.end(JSON.stringify({ ok: false }));
      });
    });
    service.keepAliveTimeout = 120000;
    service.headersTimeout = 121000;
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const { port } = service.address() as AddressInfo;
    const run = async () => {
      const started = Date.now();
      const result = await runBundle(
        'constraints',
        {
          project: fixtureCopy('openstack-archive/snap-glance/master'),
          ref: 'stable/ocata',
          'requirements-repo': server.url,
        },
        {
          ACTIONS_CACHE_SERVICE_V2: 'true',
          ACTIONS_RESULTS_URL: `http://127.0.0.1:${port}/`,
          ACTIONS_RUNTIME_TOKEN: 'runtime-token',
        },
      );
      return { ...result, seconds: (Date.now() - started) / 1000 };
    };
    try {
      const saving = await run();
      expect(saving.status).toBe(0);
      expect(calls).toEqual([
        'GetCacheEntryDownloadURL',
        'CreateCacheEntry',
        'PUT blob',
        'FinalizeCacheEntryUpload',
      ]);
      // Well under the two minutes an idle keep-alive socket would hold the process.
      expect(saving.seconds).toBeLessThan(30);

      calls.length = 0;
      const restoring = await run();
      expect(restoring.status).toBe(0);
      expect(calls).toEqual(['GetCacheEntryDownloadURL', 'GET blob']);
      expect(restoring.stdout).toMatch(/constraints for [0-9a-f]{12} restored from cache/);
      expect(restoring.outputs['constraints-commit']).toBe(saving.outputs['constraints-commit']);
      expect(restoring.seconds).toBeLessThan(30);
    } finally {
      service.closeAllConnections();
      await new Promise((resolve) => service.close(resolve));
    }
  }, 120000);
});

describe('the constraints action under @github/local-action', () => {
  it('runs the TypeScript entry with inputs from a .env file', async () => {
    const project = fixtureCopy('openstack-archive/snap-tempest/master');
    const envFile = join(tempDir(), '.env');
    writeFileSync(
      envFile,
      `INPUT_PROJECT=${project}\nINPUT_REF=stable/ocata\nINPUT_REQUIREMENTS-REPO=${server.url}\n`,
    );
    const result = spawnSync(
      join(ROOT, 'node_modules/.bin/local-action'),
      ['run', 'actions/constraints', '../../src/actions/constraints.ts', envFile],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 90000,
        // Its own RUNNER_TEMP: a shared /tmp/openstack-snap-actions may belong to another user.
        env: { ...process.env, NODE_OPTIONS: '', RUNNER_TEMP: tempDir('osa-local-action-') },
      },
    );
    expect(result.stdout).not.toContain('::error::');
    expect(result.stdout).toContain('::set-output name=constraints-ref::ocata-eol');
    expect(result.stdout).toContain('::set-output name=excluded::tempest');
    expect(readFileSync(join(project, 'snap/local/upper-constraints.txt'), 'utf8')).not.toMatch(
      /^tempest===/m,
    );
  });
});
