// A local osls plugin: removes the framework's default execution role (IamRoleLambdaExecution)
// once nothing in the stack uses it.
//
// serverless-iam-roles-per-function gives every function its own role, but it builds those roles
// by copying the default one, so osls must still emit it; after that plugin has run
// (`before:package:finalize`, and this plugin is listed after it in serverless.yml) the default
// role is attached to no function and only widens the stack's attack surface: an assumable role
// with log and X-Ray rights that no code runs as. When some function still runs as it (a function
// without its own statements), or anything else references it, it stays.
'use strict';

const DEFAULT_ROLE = 'IamRoleLambdaExecution';

/** True when `node` (any part of a resource or output) refers to the logical id `id`. */
function refersTo(node, id) {
  if (Array.isArray(node)) return node.some((item) => refersTo(item, id));
  if (node === null || typeof node !== 'object') return false;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Ref' && value === id) return true;
    if (key === 'Fn::GetAtt') {
      const target = Array.isArray(value) ? value[0] : String(value).split('.')[0];
      if (target === id) return true;
    }
    if (key === 'DependsOn' && [value].flat().includes(id)) return true;
    if (key === 'Fn::Sub') {
      const text = Array.isArray(value) ? value[0] : value;
      if (typeof text === 'string' && new RegExp(`\\$\\{${id}[.}]`).test(text)) return true;
    }
    if (refersTo(value, id)) return true;
  }
  return false;
}

/** Logical ids of the resources and outputs of `template` that refer to `id`. */
function referencesTo(template, id) {
  const sections = [
    ...Object.entries(template.Resources ?? {}).filter(([key]) => key !== id),
    ...Object.entries(template.Outputs ?? {}).map(([key, value]) => [`Outputs.${key}`, value]),
  ];
  return sections.filter(([, value]) => refersTo(value, id)).map(([key]) => key);
}

/** Removes the default role from `template` when nothing refers to it; returns whether it did. */
function dropUnusedDefaultRole(template) {
  const resources = template.Resources ?? {};
  if (!(DEFAULT_ROLE in resources)) return false;
  if (referencesTo(template, DEFAULT_ROLE).length > 0) return false;
  delete resources[DEFAULT_ROLE];
  return true;
}

class DropUnusedDefaultRole {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.hooks = {
      'before:package:finalize': () => {
        const template = this.serverless.service.provider.compiledCloudFormationTemplate;
        if (dropUnusedDefaultRole(template)) {
          this.log?.verbose?.(`removed ${DEFAULT_ROLE}: every function runs as its own role`);
        }
      },
    };
  }
}

module.exports = DropUnusedDefaultRole;
module.exports.dropUnusedDefaultRole = dropUnusedDefaultRole;
module.exports.referencesTo = referencesTo;
module.exports.DEFAULT_ROLE = DEFAULT_ROLE;
