import { testFilesRunInThisProcess } from '../support/process-files';

describe('the test suite', () => {
  it('runs every test file in a process of its own, so no file slows down the files after it', () => {
    // Fails when files share a process: `npm test` recycles Jest's worker after every file (see
    // workerIdleMemoryLimit in jest.config.cjs for why); --runInBand undoes that.
    expect(testFilesRunInThisProcess()).toBe(1);
  });
});
