// Checks the packaged CloudFormation template for what cfn-lint cannot know about Kiln:
// - every function has its own IAM role (least privilege per function, DESIGN rule 9);
// - no statement grants a service-wide wildcard action (`dynamodb:*`) or `Resource: '*'`,
//   except the actions AWS only grants on '*' (X-Ray trace segments);
// - every function runs on the runtime serverless.yml names and ships its own bundle.
import { readFileSync } from 'node:fs';

const STAR_ONLY_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
const file = process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json';
const template = JSON.parse(readFileSync(file, 'utf8'));
const resources = template.Resources ?? {};
const problems = [];

const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
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
      }
    }
  }
}

if (problems.length) {
  console.error(`template check: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`template check: ${functions.length} function(s), each with its own least-privilege role`);
