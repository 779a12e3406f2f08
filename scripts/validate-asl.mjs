// Validates every state machine in statemachines/*.asl.json with asl-validator, after replacing
// DefinitionSubstitutions placeholders (${Name}) with ARNs of the right shape, as CloudFormation
// would at deploy time. Also refuses JSONata and `Assign`: the local runner ignores them silently
// (see ../shared/TOOLCHAIN.md), so Kiln's ASL stays JSONPath-only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const validator = require('asl-validator');
const aslValidator = validator.default ?? validator;

const dir = 'statemachines';
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.asl.json')) : [];
let failed = 0;
for (const file of files) {
  const text = readFileSync(`${dir}/${file}`, 'utf8').replace(
    /\$\{(\w+)\}/g,
    (_m, name) => `arn:aws:lambda:us-east-1:123456789012:function:kiln-ci-${name}`,
  );
  const definition = JSON.parse(text);
  const problems = [];
  const { isValid, errorsText } = aslValidator(definition);
  if (!isValid) problems.push(errorsText('\n'));
  if (definition.QueryLanguage === 'JSONata' || /"(Assign|Arguments|Output)"\s*:/.test(text)) {
    problems.push('uses JSONata or Assign, which the local runner ignores: keep to JSONPath');
  }
  if (problems.length) {
    failed++;
    console.error(`${dir}/${file}: invalid\n  ${problems.join('\n  ')}`);
  } else {
    console.log(`${dir}/${file}: valid`);
  }
}
console.log(`asl-validator: ${files.length} state machine(s), ${failed} invalid`);
process.exit(failed ? 1 : 0);
