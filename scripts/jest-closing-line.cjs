// Prints one plain closing line, `tests: N passed, N failed, N skipped`, that CI reads.
class ClosingLine {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, numFailedTestSuites } =
      results;
    const failed = numFailedTests + (numFailedTests === 0 ? numFailedTestSuites : 0);
    process.stderr.write(
      `\ntests: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped\n`,
    );
  }
}
module.exports = ClosingLine;
