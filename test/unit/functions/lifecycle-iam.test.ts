/**
 * The lifecycle functions' IAM roles in serverless.yml against what they call: lifecycle-steps may
 * make every call its adapters make, its mutations scoped to what Kiln owns (README "Lifecycle
 * hooks"); on-lifecycle only starts the lifecycle machine's executions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseServerlessDocument } from '../../../sandbox/core/routes';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const ROOT = join(__dirname, '../../..');

function statementsOf(fn: string): Statement[] {
  const doc = parseServerlessDocument(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
    functions: Record<string, { iamRoleStatements?: unknown[] }>;
  };
  return (doc.functions[fn]?.iamRoleStatements ?? []).filter(
    (s): s is Statement => typeof s === 'object' && s !== null && 'Effect' in s,
  );
}

const actionsOf = (s: Statement): string[] => [s.Action].flat();
const granted = (fn: string) => new Set(statementsOf(fn).flatMap(actionsOf));

/** The operations the lifecycle adapter sends (`new XCommand(`), by service client. */
function lifecycleAdapterActions(): string[] {
  const source = readFileSync(join(ROOT, 'shared/aws/lifecycle.ts'), 'utf8');
  const prefixes: Record<string, string> = {
    CompleteLifecycleAction: 'autoscaling',
    RecordLifecycleActionHeartbeat: 'autoscaling',
    DescribeInstances: 'ec2',
    DeregisterTargets: 'elasticloadbalancing',
    DescribeTargetGroupAttributes: 'elasticloadbalancing',
    DescribeTargetHealth: 'elasticloadbalancing',
    StartExecution: 'states',
    DescribeExecution: 'states',
  };
  const names = [...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1] ?? '');
  return [...new Set(names)].map((name) => `${prefixes[name] ?? 'unknown'}:${name}`).sort();
}

describe("lifecycle-steps' IAM role", () => {
  it('allows every Auto Scaling, ELB and EC2 call of the lifecycle adapter, and the Run Command calls', () => {
    const allowed = granted('lifecycleSteps');
    const needed = [
      ...lifecycleAdapterActions().filter((a) => !a.startsWith('states:')),
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeLifecycleHooks',
      'ssm:SendCommand',
      'ssm:ListCommands',
      'ssm:GetCommandInvocation',
    ];
    expect(needed.filter((a) => !allowed.has(a))).toEqual([]);
  });

  it('completes and heartbeats actions only on groups tagged kiln:managed=true', () => {
    const [statement, ...others] = statementsOf('lifecycleSteps').filter((s) =>
      actionsOf(s).includes('autoscaling:CompleteLifecycleAction'),
    );
    expect(others).toEqual([]);
    expect(statement?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/kiln:managed': 'true' },
    });
  });

  it('sends Run Command only as AWS-RunShellScript, to instances tagged kiln:managed=true', () => {
    const sends = statementsOf('lifecycleSteps').filter((s) => actionsOf(s).includes('ssm:SendCommand'));
    const text = JSON.stringify(sends);
    expect(text).toContain('document/AWS-RunShellScript');
    const onInstances = sends.find((s) => JSON.stringify(s.Resource).includes(':instance/'));
    expect(onInstances?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/kiln:managed': 'true' } });
  });

  it('cannot terminate, launch or resize anything', () => {
    const allowed = [...granted('lifecycleSteps')];
    expect(
      allowed.filter((a) =>
        /Terminate|RunInstances|UpdateAutoScalingGroup|SetDesiredCapacity|Delete/.test(a),
      ),
    ).toEqual([]);
  });
});

describe("on-lifecycle's IAM role", () => {
  it('starts executions of the lifecycle machine and touches no EC2 or Auto Scaling', () => {
    const statements = statementsOf('onLifecycle');
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((a) => /^(ec2|autoscaling|elasticloadbalancing|ssm):/.test(a))).toEqual([]);
    const start = statements.find((s) => actionsOf(s).includes('states:StartExecution'));
    expect(JSON.stringify(start?.Resource)).toContain('lifecycleStateMachineArn');
  });
});
