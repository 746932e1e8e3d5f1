import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkWorkflow } from '../check/index.js';
import { errorKind, errorMessage } from '../platform/index.js';

const USAGE = 'usage: osa-check [WORKFLOW] [--snap DIR]   (WORKFLOW: .github/workflows/snap.yml)';

/**
 * `osa-check`: run from a snap repo, it prints what its workflow does on each event (the checks
 * and their runners, what is left out and why, where it publishes) and refuses what github.com
 * would refuse. Exit 1 on anything to fix, 2 on a wrong command line.
 */
export async function main(argv: string[], toolkit: string): Promise<number> {
  const args = [...argv];
  const at = args.indexOf('--snap');
  const snap = at >= 0 ? args.splice(at, 2)[1] : undefined;
  if ((at >= 0 && !snap) || args.some((a) => a.startsWith('-')) || args.length > 1) {
    console.error(USAGE);
    return 2;
  }
  const workflow = resolve(args[0] ?? '.github/workflows/snap.yml');
  if (!existsSync(workflow)) {
    console.error(`${workflow} does not exist.\n${USAGE}`);
    return 2;
  }
  try {
    const reports = await checkWorkflow({ workflow, snap, toolkit });
    let problems = 0;
    for (const report of reports) {
      console.log(`\n${report.event}: ${report.refused ? 'REFUSED' : report.publish}`);
      if (report.refused) {
        problems++;
        console.log(`  ${report.refused}`);
      }
      for (const check of report.checks) console.log(`  check  ${check}`);
      for (const notice of report.notices) console.log(`  note   ${notice}`);
    }
    console.log(problems ? `\n${problems} event(s) to fix.` : '\nNo problem found.');
    return problems ? 1 : 0;
  } catch (error) {
    if (errorKind(error) === 'bug') throw error;
    console.error(`osa-check: ${errorMessage(error)}`);
    return 1;
  }
}

// Bundled as dist/check/index.js: the toolkit's tree is two levels up.
const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && resolve(process.argv[1]).startsWith(here))
  process.exitCode = await main(process.argv.slice(2), resolve(here, '../..'));
