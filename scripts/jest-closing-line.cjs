// Prints one plain closing line, `tests: N passed, N failed, N skipped`, for CI to read. Jest's
// summary reporter writes after every custom reporter, so the line is written at process exit.
class ClosingLine {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, numFailedTestSuites } =
      results;
    // A suite that failed to load has no failed tests; count it so the line never reads clean.
    const failed = numFailedTests + (numFailedTests === 0 ? numFailedTestSuites : 0);
    const line = `tests: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped\n`;
    process.once('exit', () => process.stderr.write(`\n${line}`));
  }
}
module.exports = ClosingLine;
