/**
 * A stand-in for Step Functions' endpoint in the cold-start bench: answers StartExecution (AWS's
 * JSON 1.0 protocol, `X-Amz-Target: AWSStepFunctions.StartExecution`) with the execution's ARN,
 * as Step Functions does, so on-artifact's first invocation includes its start. The bench times
 * the function, not Step Functions: the answer is immediate.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 *
 * The same endpoint stands in for the two calls chatops' acknowledgement makes besides DynamoDB:
 * SSM GetParameter (JSON 1.1, `X-Amz-Target: AmazonSSM.GetParameter`), answering the bench's
 * signing secret, and Lambda's asynchronous Invoke (REST, `POST /2015-03-31/functions/NAME/invocations`,
 * 202 with no body).
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 *
 * It also stands in for Auto Scaling's DescribeAutoScalingGroups (AWS's query protocol: a form
 * body `Action=DescribeAutoScalingGroups`, an XML answer), with no group, so the reconciler's first
 * run finds no lifecycle action waiting, as in an account with nothing scaling.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const BENCH_DEPLOY_STATE_MACHINE_ARN =
  'arn:aws:states:us-east-1:123456789012:stateMachine:kiln-bench-deploy';
/** The lifecycle machine on-lifecycle starts (answered the same way). */
export const BENCH_LIFECYCLE_STATE_MACHINE_ARN =
  'arn:aws:states:us-east-1:123456789012:stateMachine:kiln-bench-lifecycle';

/** The signing secret the stub's Parameter Store holds (the bench signs its Slack requests with it). */
export const BENCH_SLACK_SECRET = 'bench-signing-secret';
export const BENCH_SLACK_SECRET_PARAMETER = '/kiln/bench/slack';

export interface StubSfn {
  endpoint: string;
  /** StartExecution calls answered. */
  starts: () => number;
  stop: () => Promise<void>;
}

export async function startStubSfn(): Promise<StubSfn> {
  let starts = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      if (new URLSearchParams(body).get('Action') === 'DescribeAutoScalingGroups') {
        response.setHeader('content-type', 'text/xml');
        response.end(
          '<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">' +
            '<DescribeAutoScalingGroupsResult><AutoScalingGroups/></DescribeAutoScalingGroupsResult>' +
            '<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata>' +
            '</DescribeAutoScalingGroupsResponse>',
        );
        return;
      }
      const target = String(request.headers['x-amz-target'] ?? '');
      if (
        request.method === 'POST' &&
        /^\/2015-03-31\/functions\/[^/]+\/invocations/.test(request.url ?? '')
      ) {
        response.statusCode = 202;
        response.end();
        return;
      }
      if (target === 'AmazonSSM.GetParameter') {
        response.setHeader('content-type', 'application/x-amz-json-1.1');
        response.end(
          JSON.stringify({
            Parameter: {
              Name: BENCH_SLACK_SECRET_PARAMETER,
              Type: 'SecureString',
              Value: BENCH_SLACK_SECRET,
              Version: 1,
            },
          }),
        );
        return;
      }
      response.setHeader('content-type', 'application/x-amz-json-1.0');
      if (target !== 'AWSStepFunctions.StartExecution') {
        response.statusCode = 400;
        response.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
        return;
      }
      starts++;
      const { stateMachineArn = '', name = '' } = JSON.parse(body || '{}') as {
        stateMachineArn?: string;
        name?: string;
      };
      const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      response.end(JSON.stringify({ executionArn, startDate: 1767225600 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    starts: () => starts,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
