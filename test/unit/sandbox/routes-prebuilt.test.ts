import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseServerlessDocument, parseServerlessYaml } from '../../../sandbox/core/routes';

const PROJECT_YML = join(__dirname, '../../../serverless.yml');

const yml = (service: string): string =>
  [
    `service: ${service}`,
    'provider:',
    '  name: aws',
    'functions:',
    '  f:',
    '    handler: functions/f.handler',
    '    environment:',
    '      TABLE: !Ref KilnTable',
  ].join('\n');

describe('routes: a serverless.yml document parsed ahead of time (the CLI bundle stores one)', () => {
  it('stands in for the parse when the text is exactly the text it was parsed from', () => {
    const text = yml('kiln');
    // A stored document that differs from the text's shows which one was read.
    const prebuilt = { text, json: JSON.stringify(parseServerlessDocument(yml('stored'))) };

    expect(parseServerlessYaml(text, {}, prebuilt).service).toBe('stored');
  });

  it('is ignored, and the text parsed, when the text differs in any way', () => {
    const prebuilt = { text: yml('kiln'), json: JSON.stringify(parseServerlessDocument(yml('stored'))) };

    expect(parseServerlessYaml(`${yml('kiln')}\n`, {}, prebuilt).service).toBe('kiln');
    expect(parseServerlessYaml(yml('other'), {}, prebuilt).service).toBe('other');
  });

  it("gives the same routes as the parse for the project's serverless.yml (it survives JSON)", () => {
    const text = readFileSync(PROJECT_YML, 'utf8');
    const document = parseServerlessDocument(text);
    const prebuilt = { text, json: JSON.stringify(document) };
    const options = { stage: 'sandbox', region: 'us-east-1', accountId: '123456789012' };

    expect(isDeepStrictEqual(JSON.parse(prebuilt.json), document)).toBe(true);
    expect(parseServerlessYaml(text, options, prebuilt)).toEqual(
      parseServerlessYaml(text, options, undefined),
    );
  });

  it('writes intrinsic tags in their JSON form', () => {
    expect(parseServerlessDocument(yml('kiln'))).toMatchObject({
      functions: { f: { environment: { TABLE: { Ref: 'KilnTable' } } } },
    });
  });
});
