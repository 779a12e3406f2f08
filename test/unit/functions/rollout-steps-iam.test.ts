/**
 * rollout-steps' IAM role in serverless.yml against what its adapters call: every AWS operation
 * of the rollout's adapters (shared/aws/{autoscaling,launch-templates,elbv2,cloudwatch}.ts) is
 * allowed, and the blue/green additions are scoped as README "Rollout" → IAM and tags says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseServerlessDocument } from '../../../sandbox/core/routes';
import { NOTIFICATION_PARAMETER_PREFIX } from '../../../shared/domain/manifest/schema';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const ROOT = join(__dirname, '../../..');

function rolloutStatements(): Statement[] {
  const doc = parseServerlessDocument(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
    functions: Record<string, { iamRoleStatements?: unknown[] }>;
    custom: Record<string, unknown>;
  };
  // Statements several functions share live in `custom` (e.g. custom.notifyPublishStatement).
  const resolve = (s: unknown) => {
    const shared = typeof s === 'string' ? /^\$\{self:custom\.(\w+)\}$/.exec(s) : null;
    return shared ? doc.custom[shared[1]!] : s;
  };
  return (doc.functions.rolloutSteps?.iamRoleStatements ?? [])
    .map(resolve)
    .filter((s): s is Statement => typeof s === 'object' && s !== null && 'Effect' in s);
}

const actionsOf = (s: Statement): string[] => [s.Action].flat();

/** The operations an adapter file sends (`new XCommand(`), as IAM actions of `prefix`. */
function adapterActions(file: string, prefix: string): string[] {
  const source = readFileSync(join(ROOT, 'shared/aws', file), 'utf8');
  const names = [...source.matchAll(/new (\w+)Command\(/g)].map((m) => `${prefix}:${m[1]}`);
  return [...new Set(names)].sort();
}

function resourcesText(s: Statement): string {
  return JSON.stringify(s.Resource);
}

describe("rollout-steps' IAM role", () => {
  it.each([
    ['autoscaling.ts', 'autoscaling'],
    ['launch-templates.ts', 'ec2'],
    ['elbv2.ts', 'elasticloadbalancing'],
    ['cloudwatch.ts', 'cloudwatch'],
  ])('allows every operation %s calls', (file, prefix) => {
    const granted = new Set(
      rolloutStatements()
        .filter((s) => s.Effect === 'Allow')
        .flatMap(actionsOf),
    );
    const actions = adapterActions(file, prefix);
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => !granted.has(action))).toEqual([]);
  });

  it("allows PutMetricAlarm only on the account's alarms that keep an Auto Scaling action", () => {
    const statements = rolloutStatements().filter((s) => actionsOf(s).includes('cloudwatch:PutMetricAlarm'));
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(actionsOf(statement!)).toEqual(['cloudwatch:PutMetricAlarm']);
    expect(resourcesText(statement!)).toMatch(/:cloudwatch:\*:\$\{AWS::AccountId\}:alarm:\*/);
    expect(statement!.Condition).toEqual({
      'ForAnyValue:ArnLike': {
        'cloudwatch:AlarmActions': expect.objectContaining({
          'Fn::Sub': expect.stringMatching(/:autoscaling:\*:\$\{AWS::AccountId\}:scalingPolicy:\*$/),
        }),
      },
    });
  });

  describe('notifications', () => {
    it.each([
      ['sns.ts', 'sns'],
      ['parameters.ts', 'ssm'],
    ])('allows every operation %s calls', (file, prefix) => {
      const granted = new Set(
        rolloutStatements()
          .filter((s) => s.Effect === 'Allow')
          .flatMap(actionsOf),
      );
      const actions = adapterActions(file, prefix);
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((action) => !granted.has(action))).toEqual([]);
    });

    it('reads parameters only under the path manifests may name the webhook in', () => {
      const reading = rolloutStatements().filter((s) => actionsOf(s).includes('ssm:GetParameter'));
      expect(reading).toHaveLength(1);
      expect(resourcesText(reading[0]!)).toContain(`:parameter${NOTIFICATION_PARAMETER_PREFIX}*`);
    });

    it('decrypts through SSM only, and only those parameters', () => {
      const decrypting = rolloutStatements().filter((s) => actionsOf(s).includes('kms:Decrypt'));
      expect(decrypting).toHaveLength(1);
      const condition = decrypting[0]!.Condition;
      expect(JSON.stringify(condition?.StringEquals?.['kms:ViaService'])).toContain(
        'ssm.${AWS::Region}.amazonaws.com',
      );
      expect(JSON.stringify(condition?.StringLike?.['kms:EncryptionContext:PARAMETER_ARN'])).toContain(
        `:parameter${NOTIFICATION_PARAMETER_PREFIX}*`,
      );
    });

    it("publishes only to the account's own topics", () => {
      const publishing = rolloutStatements().filter((s) => actionsOf(s).includes('sns:Publish'));
      expect(publishing).toHaveLength(1);
      expect(resourcesText(publishing[0]!)).toMatch(/:sns:\*:\$\{AWS::AccountId\}:\*/);
    });
  });

  it('passes roles to Auto Scaling (lifecycle hooks) and EC2 (instance profiles) only', () => {
    const passing = rolloutStatements().filter((s) => actionsOf(s).includes('iam:PassRole'));
    const services = passing.map((s) => s.Condition?.StringEquals?.['iam:PassedToService']).sort();
    expect(services).toEqual(['autoscaling.amazonaws.com', 'ec2.amazonaws.com']);
  });
});
