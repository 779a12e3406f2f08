/**
 * `npm run chaos -- --seeds N`: the story under seeded fault schedules, invariants checked after
 * each run (sandbox/chaos/, README "Chaos").
 */
import { main } from '../sandbox/chaos/cli';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 2;
  },
);
