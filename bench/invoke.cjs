// The cold-start bench's child process: loads one function bundle as Lambda's Node.js runtime
// would (`require`), then invokes its handler once with the event in KILN_BENCH_EVENT and prints
// the result on a last line of its own. Plain CommonJS, so nothing but the bundle is loaded.
// Usage: node bench/invoke.cjs BUNDLE EXPORT
'use strict';
const [bundle, exportName] = process.argv.slice(2);
const handler = require(bundle)[exportName];
const event = JSON.parse(process.env.KILN_BENCH_EVENT || 'null');
const name = process.env.AWS_LAMBDA_FUNCTION_NAME || 'bench';
const context = {
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: '2026/01/01/[$LATEST]bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30000,
  done() {},
  fail() {},
  succeed() {},
};
Promise.resolve(handler(event, context)).then(
  (result) => {
    process.stdout.write(`\nKILN_BENCH_RESULT ${JSON.stringify(result)}\n`);
    // Lambda would freeze the process here; the SDK's kept-alive sockets would otherwise hold it.
    process.exit(0);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
