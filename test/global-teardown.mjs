// Removes the run's temp root (test/global-setup.mjs); OSA_KEEP_TEST_TMP=1 keeps it for a look.
import { rmSync } from 'node:fs';

export default function teardown() {
  const root = process.env.OSA_TEST_ROOT;
  if (root && !process.env.OSA_KEEP_TEST_TMP) rmSync(root, { recursive: true, force: true });
}
