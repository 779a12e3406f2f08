/**
 * Call in a describe body: each test starts with `process.exitCode` unset and leaves it as it found
 * it. The CLI commands under test set it (1 for bad input or a failed check), and a value left
 * behind would become the exit code of the whole Jest run.
 */
export function isolateProcessExitCode(): void {
  let saved: typeof process.exitCode;
  beforeEach(() => {
    saved = process.exitCode;
    process.exitCode = undefined;
  });
  afterEach(() => {
    process.exitCode = saved;
  });
}
