// Runs the longest test files first, so the slowest one does not start last and add its whole
// time to the run's end. Jest orders by the times it cached from earlier runs, but a clean clone
// (CI) has none, and then orders by file size: the real cloud's file would start wherever its size
// put it, and it runs for minutes.
import Sequencer from '@jest/test-sequencer';

const LONGEST = ['smoke-cloud.test.ts'];

export default class LongestFirst extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const rank = (test) => {
      const at = LONGEST.findIndex((name) => test.path.endsWith(`/${name}`));
      return at === -1 ? LONGEST.length : at;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
