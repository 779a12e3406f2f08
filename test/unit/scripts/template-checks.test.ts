import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_ROLE,
  dropUnusedDefaultRole,
  referencesTo,
} from '../../../scripts/serverless/drop-unused-default-role.cjs';

const ROOT = join(__dirname, '../../..');

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown }>;
interface Template {
  Resources: Resources;
  Outputs?: Record<string, unknown>;
}

const role = (): Resources[string] => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    Policies: [
      {
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [{ 'Fn::GetAtt': ['Table', 'Arn'] }] },
          ],
        },
      },
    ],
  },
});

/** The shape osls packages for one function with its own role, one rule, the DLQ and the table. */
function goodTemplate(): Template {
  return {
    Resources: {
      FnRole: role(),
      FnLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['FnRole'],
        Properties: {
          Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] },
          Runtime: 'nodejs24.x',
          Code: { S3Key: 'fn.zip' },
        },
      },
      FnLambdaEvConf: {
        Type: 'AWS::Lambda::EventInvokeConfig',
        Properties: {
          FunctionName: { Ref: 'FnLambdaFunction' },
          DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Dlq', 'Arn'] } } },
        },
      },
      Rule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Targets: [
            {
              Id: 'fn-target',
              Arn: { 'Fn::GetAtt': ['FnLambdaFunction', 'Arn'] },
              RetryPolicy: { MaximumRetryAttempts: 30, MaximumEventAgeInSeconds: 3600 },
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
            },
          ],
        },
      },
      Dlq: { Type: 'AWS::SQS::Queue', Properties: { SqsManagedSseEnabled: true } },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { DeletionProtectionEnabled: true } },
    },
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-template-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs scripts/check-template.mjs (as `npm run package` does) on `template`. */
function check(template: Template): { status: number | null; stdout: string; stderr: string } {
  const file = join(dir, 'template.json');
  writeFileSync(file, JSON.stringify(template));
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts/check-template.mjs'), file], {
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scripts/check-template.mjs', () => {
  it('passes a template with one role per function, retries, dead letters and deletion protection', () => {
    const result = check(goodTemplate());
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  describe('unused roles', () => {
    it('fails on an IAM role that no function or other resource uses, naming it', () => {
      const template = goodTemplate();
      template.Resources[DEFAULT_ROLE] = role();

      const result = check(template);

      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`${DEFAULT_ROLE}: an IAM role that no function or other resource uses`);
    });

    it('counts a role as used when a resource other than a function refers to it', () => {
      const template = goodTemplate();
      template.Resources.MachineRole = role();
      template.Resources.Machine = {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { RoleArn: { 'Fn::GetAtt': ['MachineRole', 'Arn'] } },
      };

      expect(check(template).status).toBe(0);
    });
  });

  describe('wildcard resources', () => {
    const withStatement = (statement: Record<string, unknown>): Template => {
      const template = goodTemplate();
      const policies = template.Resources.FnRole?.Properties?.Policies as Array<{
        PolicyDocument: { Statement: unknown[] };
      }>;
      policies[0]?.PolicyDocument.Statement.push(statement);
      return template;
    };

    // SendTaskSuccess has no resource types: IAM honours it only on '*'.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
    it('allows states:SendTaskSuccess on Resource *, the only resource it can be granted on', () => {
      const result = check(
        withStatement({ Effect: 'Allow', Action: ['states:SendTaskSuccess'], Resource: '*' }),
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    });

    it('fails on any other action on Resource *, naming it', () => {
      const result = check(
        withStatement({ Effect: 'Allow', Action: ['states:SendTaskFailure'], Resource: '*' }),
      );
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("states:SendTaskFailure on Resource '*'");
    });
  });

  describe('lost events', () => {
    it('fails on a rule target without a retry policy or a dead-letter queue', () => {
      const template = goodTemplate();
      const [target] = (template.Resources.Rule?.Properties?.Targets ?? []) as Array<Record<string, unknown>>;
      delete target?.RetryPolicy;
      delete target?.DeadLetterConfig;

      const result = check(template);

      expect(result.status).toBe(1);
      expect(result.stderr).toContain('Rule target fn-target: no RetryPolicy');
      expect(result.stderr).toContain('Rule target fn-target: no DeadLetterConfig');
    });

    it('fails on a function a rule invokes without an on-failure destination', () => {
      const template = goodTemplate();
      delete template.Resources.FnLambdaEvConf;

      const result = check(template);

      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        'FnLambdaFunction: invoked asynchronously by Rule but has no on-failure destination',
      );
    });

    it('fails on a queue that is not encrypted at rest', () => {
      const template = goodTemplate();
      template.Resources.Dlq = { Type: 'AWS::SQS::Queue', Properties: {} };

      expect(check(template).stderr).toContain('Dlq: not encrypted at rest');
    });
  });

  describe('mutating EC2 actions', () => {
    const withStatement = (statement: Record<string, unknown>): Template => {
      const template = goodTemplate();
      const policies = template.Resources.FnRole?.Properties?.Policies as Array<{
        PolicyDocument: { Statement: unknown[] };
      }>;
      policies[0]?.PolicyDocument.Statement.push(statement);
      return template;
    };
    const instances = { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*' };

    it("fails on TerminateInstances on instances without a condition on Kiln's tags, naming it", () => {
      const result = check(
        withStatement({ Effect: 'Allow', Action: ['ec2:TerminateInstances'], Resource: instances }),
      );
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        "FnLambdaFunction (FnRole): ec2:TerminateInstances on arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/* without a condition on Kiln's tags",
      );
    });

    it('passes TerminateInstances conditioned on the builder tag', () => {
      const result = check(
        withStatement({
          Effect: 'Allow',
          Action: ['ec2:TerminateInstances'],
          Resource: instances,
          Condition: { StringEquals: { 'aws:ResourceTag/kiln:role': 'builder' } },
        }),
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    });

    it('passes RunInstances on the image and subnet without a condition (they cannot carry request tags)', () => {
      const result = check(
        withStatement({
          Effect: 'Allow',
          Action: ['ec2:RunInstances'],
          Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:*::image/*' }],
        }),
      );
      expect(result.status).toBe(0);
    });
  });

  it('fails on a table without deletion protection', () => {
    const template = goodTemplate();
    template.Resources.Table = { Type: 'AWS::DynamoDB::Table', Properties: {} };

    expect(check(template).stderr).toContain('Table: DeletionProtectionEnabled is not true');
  });
});

describe('scripts/serverless/drop-unused-default-role.cjs', () => {
  it('removes the default role when every function runs as its own role', () => {
    const template = goodTemplate();
    template.Resources[DEFAULT_ROLE] = role();

    expect(dropUnusedDefaultRole(template)).toBe(true);
    expect(template.Resources[DEFAULT_ROLE]).toBeUndefined();
  });

  it.each([
    ['a function runs as it', { 'Fn::GetAtt': [DEFAULT_ROLE, 'Arn'] }],
    ['a resource names it with Ref', { Ref: DEFAULT_ROLE }],
    ['a Fn::Sub string names it', { 'Fn::Sub': `\${${DEFAULT_ROLE}.Arn}` }],
  ])('keeps the default role when %s', (_case, reference) => {
    const template = goodTemplate();
    template.Resources[DEFAULT_ROLE] = role();
    template.Resources.Other = { Type: 'AWS::Lambda::Function', Properties: { Role: reference } };

    expect(dropUnusedDefaultRole(template)).toBe(false);
    expect(referencesTo(template, DEFAULT_ROLE)).toEqual(['Other']);
  });

  it('keeps the default role when a DependsOn or an output refers to it', () => {
    const template = goodTemplate();
    template.Resources[DEFAULT_ROLE] = role();
    template.Outputs = { RoleArn: { Value: { 'Fn::GetAtt': [DEFAULT_ROLE, 'Arn'] } } };
    template.Resources.Waiter = { Type: 'AWS::CloudFormation::WaitConditionHandle', DependsOn: DEFAULT_ROLE };

    expect(referencesTo(template, DEFAULT_ROLE)).toEqual(['Waiter', 'Outputs.RoleArn']);
    expect(dropUnusedDefaultRole(template)).toBe(false);
  });
});
