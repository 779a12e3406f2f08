/**
 * on-alarm's role and rule in serverless.yml: it reacts through Kiln's table and the deploy state
 * machine only (the rollback's own steps touch the fleet), and its rule delivers moves into ALARM.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseServerlessDocument } from '../../../sandbox/core/routes';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

interface OnAlarmFunction {
  iamRoleStatements?: unknown[];
  events?: Array<{ eventBridge?: { pattern?: Record<string, unknown> } }>;
}

const ROOT = join(__dirname, '../../..');

function onAlarm(): OnAlarmFunction {
  const doc = parseServerlessDocument(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
    functions: Record<string, OnAlarmFunction>;
  };
  const fn = doc.functions.onAlarm;
  if (fn === undefined) throw new Error('serverless.yml has no onAlarm function');
  return fn;
}

const statements = (): Statement[] =>
  (onAlarm().iamRoleStatements ?? []).filter(
    (s): s is Statement => typeof s === 'object' && s !== null && 'Effect' in s,
  );

const actions = (): string[] => statements().flatMap((s) => [s.Action].flat());

describe("on-alarm's IAM role and rule", () => {
  it('cannot touch EC2, Auto Scaling, ELB or CloudWatch: the rollback it starts does that', () => {
    expect(
      actions().filter((action) => /^(ec2|autoscaling|elasticloadbalancing|cloudwatch):/.test(action)),
    ).toEqual([]);
  });

  it('starts executions of the deploy state machine only, and never stops or fails one', () => {
    const start = statements().filter((s) => [s.Action].flat().includes('states:StartExecution'));
    expect(start).toHaveLength(1);
    expect(JSON.stringify(start[0]?.Resource)).toContain('deployStateMachineArn');
    expect(
      actions()
        .filter((a) => a.startsWith('states:'))
        .sort(),
    ).toEqual(['states:SendTaskSuccess', 'states:StartExecution']);
  });

  it('is reached by CloudWatch alarm state changes into ALARM only', () => {
    expect(onAlarm().events?.map((event) => event.eventBridge?.pattern)).toEqual([
      {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { state: { value: ['ALARM'] } },
      },
    ]);
  });
});
