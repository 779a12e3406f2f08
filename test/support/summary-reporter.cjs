// Prints one plain closing line, `tests: N passed, N failed[, N skipped]`, that CI and people can
// read without knowing Jest's own summary format. With KILN_TEST_SUMMARY_FILE set, it also appends
// the counts there, so .ci/run can close with the total of all its test runs.
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const suffix = skipped ? `, ${skipped} skipped` : '';
    process.stdout.write(
      `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${suffix}\n`,
    );
    const file = process.env.KILN_TEST_SUMMARY_FILE;
    if (file) appendFileSync(file, `${results.numPassedTests} ${results.numFailedTests} ${skipped}\n`);
  }
}
module.exports = SummaryReporter;
