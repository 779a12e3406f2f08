// Checks the packaged CloudFormation template for what cfn-lint cannot know about Kiln:
// - every function has its own IAM role (least privilege per function, DESIGN rule 9), and every
//   role is used by something in the stack (an assumable role nothing runs as is attack surface);
// - no statement grants a service-wide wildcard action (`dynamodb:*`) or `Resource: '*'`,
//   except the actions AWS only grants on '*' (X-Ray trace segments, SendTaskSuccess);
// - every function runs on the runtime serverless.yml names and ships its own bundle;
// - no event is lost silently: every EventBridge rule target has a retry policy and a dead-letter
//   queue, every function a rule invokes (asynchronously) has an on-failure destination, and
//   every queue is encrypted at rest;
// - every DynamoDB table has deletion protection;
// - mutating EC2 actions on instances, volumes, images and snapshots (and Run Command on
//   instances) are conditioned on Kiln's tags (`aws:RequestTag/kiln:…`, `aws:ResourceTag/kiln:…`,
//   `ssm:resourceTag/kiln:…`) or limited to tagging at creation (`ec2:CreateAction`), where the
//   Service Authorization Reference lists those condition keys for the resource
//   (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html,
//   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html).
import { readFileSync } from 'node:fs';

// Actions with no resource types in the Service Authorization Reference: IAM honours them only on
// '*' (a statement naming an ARN grants nothing). EC2's Describe* and Run Command's reads; X-Ray's
// trace calls; Step Functions' SendTaskSuccess, whose task token is the authorization
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html).
const STAR_ONLY_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'ec2:DescribeImages',
  'ec2:DescribeInstances',
  'ec2:DescribeSnapshots',
  'ssm:ListCommands',
  'ssm:GetCommandInvocation',
  'states:SendTaskSuccess',
  // The rollout's reads: Auto Scaling's, EC2's launch template, ELB's and CloudWatch's Describe*
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html,
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html,
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeInstanceRefreshes',
  'autoscaling:DescribeLifecycleHooks',
  'autoscaling:DescribePolicies',
  'autoscaling:DescribeTrafficSources',
  'autoscaling:DescribeLoadBalancerTargetGroups',
  'ec2:DescribeLaunchTemplates',
  'ec2:DescribeLaunchTemplateVersions',
  'elasticloadbalancing:DescribeTargetHealth',
  // Lifecycle handling reads each target group's deregistration delay (ELB's Describe* likewise).
  'elasticloadbalancing:DescribeTargetGroupAttributes',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:DescribeAlarmHistory',
]);

/**
 * Mutating actions and the resource types (ARN fragments) on which a statement must carry a tag
 * condition. The resources left out are ones the caller does not own or cannot tag in the request
 * (RunInstances' image, subnet and security groups; SendCommand's document).
 */
const TAG_SCOPED = {
  'ec2:RunInstances': [':instance/', ':volume/'],
  'ec2:StopInstances': [':instance/'],
  'ec2:TerminateInstances': [':instance/'],
  'ec2:CreateImage': [':instance/', ':image/'],
  'ec2:CopyImage': [':image/'],
  'ec2:CreateTags': [':instance/', ':volume/', ':image/', ':snapshot/'],
  'ec2:DeregisterImage': [':image/'],
  'ec2:DeleteSnapshot': [':snapshot/'],
  'ssm:SendCommand': [':instance/'],
};

/** Does the statement's condition name one of Kiln's tags (or allow tagging only at creation)? */
function tagConditioned(statement) {
  const keys = Object.values(statement.Condition ?? {}).flatMap((block) => Object.keys(block ?? {}));
  return keys.some(
    (key) =>
      /^(aws:RequestTag|aws:ResourceTag|ssm:resourceTag)\/kiln:/.test(key) || key === 'ec2:CreateAction',
  );
}

/** A statement resource as text (a plain ARN, or the template of an Fn::Sub). */
function resourceText(resource) {
  if (typeof resource === 'string') return resource;
  const sub = resource?.['Fn::Sub'];
  if (sub !== undefined) return Array.isArray(sub) ? String(sub[0]) : String(sub);
  return JSON.stringify(resource);
}

/** Does any part of `node` refer to the logical id `id` (Ref, GetAtt, Sub, DependsOn)? */
function refersTo(node, id) {
  if (Array.isArray(node)) return node.some((item) => refersTo(item, id));
  if (node === null || typeof node !== 'object') return false;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Ref' && value === id) return true;
    if (key === 'Fn::GetAtt' && (Array.isArray(value) ? value[0] : String(value).split('.')[0]) === id)
      return true;
    if (key === 'DependsOn' && [value].flat().includes(id)) return true;
    if (key === 'Fn::Sub') {
      const text = Array.isArray(value) ? value[0] : value;
      if (typeof text === 'string' && text.includes(`\${${id}`)) return true;
    }
    if (refersTo(value, id)) return true;
  }
  return false;
}

/** The logical id a value points at through Ref or GetAtt, if it does. */
function targetOf(value) {
  if (value === null || typeof value !== 'object') return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  if (getAtt !== undefined) return Array.isArray(getAtt) ? getAtt[0] : String(getAtt).split('.')[0];
  return undefined;
}

/** Every problem with `template`, one line each (empty when it passes). */
export function checkTemplate(template) {
  const resources = template.Resources ?? {};
  const problems = [];
  const ofType = (type) => Object.entries(resources).filter(([, r]) => r.Type === type);

  const functions = ofType('AWS::Lambda::Function');
  const roleOf = new Map();
  for (const [id, fn] of functions) {
    const role = fn.Properties?.Role?.['Fn::GetAtt']?.[0];
    if (!role) problems.push(`${id}: its role is not a role of this stack`);
    else if (roleOf.has(role)) problems.push(`${id} shares the role ${role} with ${roleOf.get(role)}`);
    else roleOf.set(role, id);
    if (!String(fn.Properties?.Runtime ?? '').startsWith('nodejs'))
      problems.push(`${id}: runtime ${fn.Properties?.Runtime}`);
    if (!fn.Properties?.Code?.S3Key) problems.push(`${id}: no code bundle`);
  }

  for (const [roleId] of ofType('AWS::IAM::Role')) {
    const users = Object.entries(resources).filter(([id, r]) => id !== roleId && refersTo(r, roleId));
    if (users.length === 0) problems.push(`${roleId}: an IAM role that no function or other resource uses`);
  }

  for (const [roleId, functionId] of roleOf.entries()) {
    for (const policy of resources[roleId]?.Properties?.Policies ?? []) {
      for (const statement of policy.PolicyDocument?.Statement ?? []) {
        const actions = [statement.Action].flat();
        const resourcesOfStatement = [statement.Resource].flat();
        for (const action of actions) {
          if (/:\*$/.test(action) || action === '*')
            problems.push(`${functionId} (${roleId}): wildcard action ${action}`);
          if (resourcesOfStatement.includes('*') && !STAR_ONLY_ACTIONS.has(action)) {
            problems.push(`${functionId} (${roleId}): ${action} on Resource '*'`);
          }
          const scoped = TAG_SCOPED[action];
          if (scoped && statement.Effect === 'Allow' && !tagConditioned(statement)) {
            const exposed = resourcesOfStatement
              .map(resourceText)
              .filter((text) => text === '*' || scoped.some((fragment) => text.includes(fragment)));
            if (exposed.length > 0) {
              problems.push(
                `${functionId} (${roleId}): ${action} on ${exposed.join(', ')} without a condition on Kiln's tags`,
              );
            }
          }
        }
      }
    }
  }

  // Lambda's async queue retries and then hands the event to the on-failure destination
  // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
  // EventBridge's own retries end in the target's dead-letter queue
  // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
  const onFailure = new Map(
    ofType('AWS::Lambda::EventInvokeConfig').map(([, config]) => [
      targetOf(config.Properties?.FunctionName),
      config.Properties?.DestinationConfig?.OnFailure?.Destination,
    ]),
  );
  const functionIds = new Set(functions.map(([id]) => id));
  for (const [ruleId, rule] of ofType('AWS::Events::Rule')) {
    for (const target of rule.Properties?.Targets ?? []) {
      const name = `${ruleId} target ${target.Id ?? '?'}`;
      if (!target.RetryPolicy) problems.push(`${name}: no RetryPolicy`);
      if (!target.DeadLetterConfig?.Arn)
        problems.push(`${name}: no DeadLetterConfig (failed deliveries are dropped)`);
      const fn = targetOf(target.Arn);
      if (functionIds.has(fn) && !onFailure.get(fn)) {
        problems.push(`${fn}: invoked asynchronously by ${ruleId} but has no on-failure destination`);
      }
    }
  }

  for (const [queueId, queue] of ofType('AWS::SQS::Queue')) {
    const p = queue.Properties ?? {};
    if (p.SqsManagedSseEnabled !== true && !p.KmsMasterKeyId)
      problems.push(`${queueId}: not encrypted at rest`);
  }
  for (const [tableId, table] of ofType('AWS::DynamoDB::Table')) {
    if (table.Properties?.DeletionProtectionEnabled !== true)
      problems.push(`${tableId}: DeletionProtectionEnabled is not true`);
  }
  return problems;
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const file = process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json';
  const template = JSON.parse(readFileSync(file, 'utf8'));
  const problems = checkTemplate(template);
  if (problems.length) {
    console.error(`template check: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  const count = Object.values(template.Resources ?? {}).filter(
    (r) => r.Type === 'AWS::Lambda::Function',
  ).length;
  console.log(
    `template check: ${count} function(s), each with its own least-privilege role; no unused role; ` +
      'every rule target with retries and a dead-letter queue; every async function with an on-failure destination; ' +
      "mutating EC2 and Run Command actions conditioned on Kiln's tags",
  );
}
