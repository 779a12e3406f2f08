/**
 * chatops' IAM role in serverless.yml: it starts and resumes executions, reads and writes Kiln's
 * table and reads its secret — and cannot touch EC2, Auto Scaling or load balancers itself (issue
 * 11: "the webhook function's role cannot touch EC2 or Auto Scaling directly").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseServerlessDocument } from '../../../sandbox/core/routes';
import { sandboxSlackSecretParameter } from '../../../sandbox/functions';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const ROOT = join(__dirname, '../../..');

function serverless() {
  return parseServerlessDocument(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
    params: { default: Record<string, string> };
    functions: Record<
      string,
      { iamRoleStatements?: unknown[]; environment?: Record<string, unknown>; name?: string }
    >;
  };
}

function statements(): Statement[] {
  return (serverless().functions.chatops?.iamRoleStatements ?? []).filter(
    (s): s is Statement => typeof s === 'object' && s !== null && 'Effect' in s,
  );
}

const actionsOf = (s: Statement): string[] => [s.Action].flat();
const allowed = () =>
  statements()
    .filter((s) => s.Effect === 'Allow')
    .flatMap(actionsOf);

describe("chatops' IAM role", () => {
  it('grants no EC2, Auto Scaling or Elastic Load Balancing action, and no wildcard action', () => {
    const touching = allowed().filter(
      (a) => /^(ec2|autoscaling|elasticloadbalancing):/i.test(a) || a.includes('*'),
    );
    expect(allowed().length).toBeGreaterThan(0);
    expect(touching).toEqual([]);
  });

  it('starts executions of the deploy state machine only', () => {
    const starts = statements().filter((s) => actionsOf(s).includes('states:StartExecution'));
    expect(starts.map((s) => s.Resource)).toEqual(['${self:custom.deployStateMachineArn}']);
  });

  it('resumes tasks with SendTaskSuccess only (never fails or stops executions)', () => {
    const states = allowed().filter((a) => a.startsWith('states:'));
    expect(states.sort()).toEqual(['states:SendTaskSuccess', 'states:StartExecution']);
  });

  it('invokes only itself (the asynchronous worker)', () => {
    const invokes = statements().filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invokes.map((s) => s.Resource))).toMatch(/:function:kiln-\$\{sls:stage\}-chatops"/);
    expect(serverless().functions.chatops?.name).toBe('kiln-${sls:stage}-chatops');
  });

  it('reads only the secret parameter its environment names (the secret is never in the template)', () => {
    const doc = serverless();
    const env = doc.functions.chatops?.environment ?? {};
    expect(env.KILN_SLACK_SECRET_PARAMETER).toBe('${param:slackSecretParameter}');
    const reads = statements().filter((s) => actionsOf(s).includes('ssm:GetParameter'));
    expect(JSON.stringify(reads.map((s) => s.Resource))).toContain(':parameter${param:slackSecretParameter}');
    expect(Object.keys(env).filter((k) => /SECRET(?!_PARAMETER)|TOKEN/.test(k))).toEqual([]);
  });

  it("names the sandbox's secret parameter as serverless.yml's default does for stage sandbox", () => {
    const pattern = serverless().params.default.slackSecretParameter;
    expect(pattern?.replace('${sls:stage}', 'sandbox')).toBe(sandboxSlackSecretParameter('sandbox'));
  });
});
