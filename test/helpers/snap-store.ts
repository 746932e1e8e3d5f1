import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tempDir } from './fixtures.js';
import { makeStandinSnapcraftSnaps } from './snaps.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** What a credential may do, as the store's macaroon caveats would say. */
export interface Account {
  readonly snaps: string[];
  readonly expired?: boolean;
  readonly canRelease?: boolean;
}

interface Revision {
  revision: number;
  version: string;
  arch: string;
  sha3: string;
  grade: string;
}

type Fault =
  | { kind: 'none' }
  | { kind: 'http'; status: number }
  | { kind: 'review-pending' }
  | { kind: 'manual-review' };

/**
 * A Snap Store on 127.0.0.1 with the endpoints snapcraft uses: unscanned-upload, snap-push with
 * status polling, snap-release and the revisions listing. It keeps revisions (one per distinct
 * file: the same bytes again are refused as the real store does), a channel map, the tracks each
 * snap has, and faults to serve next.
 */
export async function startSnapStore(options: {
  accounts: Record<string, Account>;
  tracks: Record<string, string[]>;
}) {
  const uploads = new Map<string, { bytes: Buffer }>();
  const revisions = new Map<string, Revision[]>();
  const channelMap = new Map<string, Map<string, number>>(); // name -> "channel|arch" -> revision
  const pending = new Map<
    string,
    { name: string; result: Record<string, unknown>; polls: number }
  >();
  const faults: Record<'upload' | 'push' | 'release', Fault[]> = {
    upload: [],
    push: [],
    release: [],
  };
  const log: { method: string; path: string; authorization?: string }[] = [];
  let ids = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      log.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
      const send = (status: number, data?: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(data === undefined ? '' : JSON.stringify(data));
      };
      const error = (status: number, code: string, message: string) =>
        send(status, { error_list: [{ code, message }] });
      const account = options.accounts[(req.headers.authorization ?? '').replace(/^Macaroon /, '')];
      const fault = (which: keyof typeof faults): Fault | undefined => faults[which].shift();

      if (req.method === 'POST' && path === '/unscanned-upload/') {
        const f = fault('upload');
        if (f?.kind === 'http') return send(f.status, { message: 'unavailable' });
        const id = `upload-${++ids}`;
        uploads.set(id, { bytes: body });
        return send(200, { successful: true, upload_id: id });
      }
      if (!account) return error(401, 'macaroon-needs-refresh', 'Authorization required');
      if (account.expired) return error(401, 'macaroon-needs-refresh', 'Expired macaroon');

      if (req.method === 'POST' && path === '/dev/api/snap-push/') {
        const { name, updown_id: uploadId } = JSON.parse(body.toString()) as {
          name: string;
          updown_id: string;
        };
        if (!account.snaps.includes(name))
          return error(
            403,
            'macaroon-permission-required',
            `Permission denied: not allowed to push ${name}`,
          );
        const f = fault('push');
        if (f?.kind === 'http') return send(f.status, { message: 'unavailable' });
        if (f?.kind === 'review-pending')
          return error(
            409,
            'processing_waiting',
            'Waiting for previous upload(s) to complete their review process.',
          );
        const bytes = uploads.get(uploadId)?.bytes ?? Buffer.alloc(0);
        const sha3 = createHash('sha3-384').update(bytes).digest('hex');
        const meta = snapYamlOf(bytes);
        const list = revisions.get(name) ?? [];
        let result: Record<string, unknown>;
        if (list.some((r) => r.sha3 === sha3)) {
          result = {
            processed: true,
            code: 'processing_error',
            errors: [
              {
                message:
                  'binary_sha3_384: A file with this exact same content has already been uploaded',
              },
            ],
          };
        } else {
          const revision: Revision = {
            revision: 100 + list.length + 1,
            version: String(meta.version),
            arch: meta.architectures[0]!,
            sha3,
            grade: meta.grade ?? 'stable',
          };
          list.push(revision);
          revisions.set(name, list);
          result =
            f?.kind === 'manual-review'
              ? {
                  processed: true,
                  code: 'need_manual_review',
                  revision: revision.revision,
                  can_release: false,
                }
              : {
                  processed: true,
                  code: 'ready_to_release',
                  revision: revision.revision,
                  can_release: true,
                };
        }
        const id = `status-${++ids}`;
        pending.set(id, { name, result, polls: 0 });
        return send(202, {
          success: true,
          status_details_url: `http://${req.headers.host}/dev/api/snaps/status/${id}`,
        });
      }
      const status = /^\/dev\/api\/snaps\/status\/(.+)$/.exec(path);
      if (req.method === 'GET' && status) {
        const entry = pending.get(status[1]!);
        if (!entry) return error(404, 'not-found', 'no such upload');
        // Processing takes a poll or two, as on the real store.
        return send(
          200,
          entry.polls++ < 1 ? { processed: false, code: 'being_processed' } : entry.result,
        );
      }
      if (req.method === 'POST' && path === '/dev/api/snap-release/') {
        const { name, revision, channels } = JSON.parse(body.toString()) as {
          name: string;
          revision: string;
          channels: string[];
        };
        if (!account.snaps.includes(name) || account.canRelease === false) {
          return error(
            403,
            'macaroon-permission-required',
            `Permission denied: not allowed to release ${name}`,
          );
        }
        const f = fault('release');
        if (f?.kind === 'http') return send(f.status, { message: 'unavailable' });
        const rev = (revisions.get(name) ?? []).find((r) => r.revision === Number(revision));
        if (!rev) return error(404, 'not-found', `revision ${revision} of ${name} does not exist`);
        for (const channel of channels) {
          const [track, risk] = channel.includes('/') ? channel.split('/') : ['latest', channel];
          if (!(options.tracks[name] ?? ['latest']).includes(track!))
            return error(400, 'invalid-field', `Invalid track '${track}' for ${name}`);
          if (rev.grade === 'devel' && (risk === 'stable' || risk === 'candidate')) {
            return error(
              400,
              'invalid-field',
              `Revision ${revision} (devel grade) cannot be released to ${channel}`,
            );
          }
          const map = channelMap.get(name) ?? new Map<string, number>();
          map.set(`${channel}|${rev.arch}`, rev.revision);
          channelMap.set(name, map);
        }
        return send(200, { success: true, channel_map: [] });
      }
      const listing = /^\/api\/v2\/snaps\/([^/]+)\/releases$/.exec(path);
      if (req.method === 'GET' && listing) {
        const list = revisions.get(listing[1]!) ?? [];
        return send(200, {
          revisions: list.map((r) => ({
            revision: r.revision,
            version: r.version,
            architectures: [r.arch],
            'created-at': '2026-11-26T00:00:00Z',
          })),
        });
      }
      return error(404, 'not-found', `no route ${req.method} ${path}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    env: { STORE_DASHBOARD_URL: url, STORE_UPLOAD_URL: url },
    log,
    faults,
    revisions,
    /** channel -> arch -> revision for a snap. */
    released(name: string): Record<string, number> {
      return Object.fromEntries(
        [...(channelMap.get(name) ?? new Map<string, number>())].map(([k, v]) => [k, v]),
      );
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// The store opens the squashfs image and reads meta/snap.yaml, as its review does.
function snapYamlOf(bytes: Buffer): { version: unknown; architectures: string[]; grade?: string } {
  const dir = tempDir('osa-store-');
  try {
    writeFileSync(join(dir, 'upload.snap'), bytes);
    return parse(
      execFileSync('unsquashfs', ['-cat', join(dir, 'upload.snap'), 'meta/snap.yaml'], {
        encoding: 'utf8',
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A revision the public info API serves: the file is what GET <url> sends back. */
export interface PublishedRevision {
  readonly name: string;
  readonly track: string;
  readonly risk: string;
  readonly arch: string;
  readonly revision: number;
  readonly version: string;
  readonly file: string;
}

/**
 * The store's public side on 127.0.0.1: GET /v2/snaps/info/<name> (channel map with download URL,
 * size and SHA3-384, as api.snapcraft.io answers without credentials) and the downloads.
 * `corrupt` makes the next download send other bytes than the ones published.
 */
export async function startSnapDownloads(published: readonly PublishedRevision[]) {
  const requests: string[] = [];
  const state = { corrupt: false, drop: false };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const info = /^\/v2\/snaps\/info\/([^/]+)$/.exec(url.pathname);
    if (info && req.headers['snap-device-series'] === '16') {
      const entries = published.filter((p) => p.name === decodeURIComponent(info[1]!));
      if (!entries.length) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ 'error-list': [{ code: 'resource-not-found' }] }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          name: info[1],
          'channel-map': entries.map((p) => {
            const bytes = readFileSync(p.file);
            return {
              channel: {
                architecture: p.arch,
                name: p.track === 'latest' ? p.risk : `${p.track}/${p.risk}`,
                track: p.track,
                risk: p.risk,
              },
              revision: p.revision,
              version: p.version,
              download: {
                url: `${base}/download/${p.name}_${p.revision}_${p.arch}.snap`,
                size: bytes.length,
                'sha3-384': createHash('sha3-384').update(bytes).digest('hex'),
              },
            };
          }),
        }),
      );
    }
    const download = /^\/download\/(.+)_(\d+)_([a-z0-9]+)\.snap$/.exec(url.pathname);
    const found = download
      ? published.find(
          (p) =>
            p.name === download[1] && p.revision === Number(download[2]) && p.arch === download[3],
        )
      : undefined;
    if (found && state.drop) {
      state.drop = false;
      return req.socket.destroy(); // the connection drops mid-request, as a flaky network does
    }
    if (found) {
      const bytes = readFileSync(found.file);
      if (state.corrupt) {
        state.corrupt = false;
        bytes[bytes.length - 1]! ^= 0xff;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(bytes);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: base,
    requests,
    corruptNextDownload: () => {
      state.corrupt = true;
    },
    dropNextDownload: () => {
      state.drop = true;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The store side of a build image: STAND-IN snapcraft (`track`/stable, for `arch`) and the core22
 * it links against, served by startSnapDownloads.
 */
export async function serveStandinSnapcraft(options: {
  readonly arch: string;
  readonly track: string;
  readonly revision: number;
  readonly version: string;
}) {
  const snaps = makeStandinSnapcraftSnaps(tempDir('osa-standin-snaps-'), {
    arch: options.arch,
    version: options.version,
    base: 'core22',
  });
  const common = { arch: options.arch, risk: 'stable' };
  return startSnapDownloads([
    {
      ...common,
      name: 'snapcraft',
      track: options.track,
      revision: options.revision,
      version: options.version,
      file: snaps.snapcraft,
    },
    {
      ...common,
      name: 'core22',
      track: 'latest',
      revision: 2000,
      version: '20261101',
      file: snaps.base,
    },
  ]);
}
