/**
 * A chaos worker process (forked by sandbox/chaos/cli.ts): runs each seed it is sent, one at a
 * time, each in a fresh region, and sends back its outcome.
 */
import { runChaosSeed, type ChaosRunOptions } from './run';

process.on('message', (options: ChaosRunOptions) => {
  void runChaosSeed(options).then((outcome) => process.send?.({ outcome }));
});
process.on('disconnect', () => process.exit(0));
