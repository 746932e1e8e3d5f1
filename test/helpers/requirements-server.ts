import { join } from 'node:path';
import {
  buildRequirementsRepo,
  requirementsHistory,
  startGitDaemon,
} from '../../scripts/lib/git-fixtures.mjs';
import { RELEASES, REQUIREMENTS, tempDir } from './fixtures.js';

/** openstack/requirements, shaped by the real deliverables and files, served by git daemon. */
export async function serveRequirements(): Promise<{
  url: string;
  path: string;
  stop(): Promise<void>;
}> {
  const base = tempDir('osa-req-');
  const path = join(base, 'openstack/requirements');
  buildRequirementsRepo(path, requirementsHistory(RELEASES), REQUIREMENTS);
  const daemon = await startGitDaemon(base);
  return { url: `${daemon.url}/openstack/requirements`, path, stop: daemon.stop };
}
