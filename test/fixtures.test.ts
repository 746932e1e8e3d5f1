import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, listFiles, SHARED_FIXTURES } from './helpers/fixtures.js';
import { announceSkip } from './helpers/system.js';

const haveShared = existsSync(join(SHARED_FIXTURES, 'MANIFEST.tsv'));
if (!haveShared)
  announceSkip('fixture drift check', `${SHARED_FIXTURES} is not beside this checkout`);

describe('vendored fixtures', () => {
  // Where the shared fixtures exist (this project's machines and CI) the copy must match them;
  // elsewhere (GitHub's runners) the vendored copy is all there is.
  (haveShared ? it : it.skip)(
    'equal the shared fixtures file for file (refresh: scripts/sync-fixtures.sh)',
    () => {
      const files = listFiles(SHARED_FIXTURES);
      expect(listFiles(FIXTURES)).toEqual(files);
      const differing = files.filter(
        (file) =>
          !readFileSync(join(FIXTURES, file)).equals(readFileSync(join(SHARED_FIXTURES, file))),
      );
      expect(differing).toEqual([]);
    },
  );
});
