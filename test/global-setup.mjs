// One temp root for the whole test run: every test's temp dirs go under it (test/helpers/
// fixtures.ts tempDir), and it is removed when the run ends, so runs do not pile up in /tmp.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup() {
  process.env.OSA_TEST_ROOT = mkdtempSync(join(tmpdir(), 'osa-tests-'));
}
