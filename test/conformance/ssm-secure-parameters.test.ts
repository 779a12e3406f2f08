/**
 * Differential tests for SecureString parameters (Parameter Store): PutParameter with Type
 * SecureString and GetParameter with and without WithDecryption, against moto (a real SSMClient
 * pointed at moto_server) and against SsmSim, comparing error names and messages and the structure
 * of outputs; then the adapters that read them (SecureParameters, SlackSecretsParameter) against moto.
 *
 * Where moto 5.2.1 departs from AWS's documentation the sim follows AWS, and the test says so:
 * - Without WithDecryption a SecureString's value is its ciphertext
 *   (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html). Neither
 *   moto ("kms:<key>:<value>") nor the sim (an opaque base64 stand-in) encrypts; both answer
 *   something other than the plaintext, and only that is compared.
 * - moto accepts KeyId on a String parameter; the PutParameter reference gives KeyId for
 *   SecureString parameters only
 *   (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html), and
 *   the sim refuses it (tested against the sim alone).
 * - ParameterVersionNotFound: same code; moto adds "Verify the version and try again."
 * - GetParameter with a :version selector: moto leaves out the Parameter's Selector; the sim gives it.
 */
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createTestContext } from '../../sandbox/core/testing';
import { Ec2Sim } from '../../sandbox/services/ec2';
import { SsmSim } from '../../sandbox/services/ssm';
import { SecureParameters } from '../../shared/aws/parameters';
import { SlackSecretsParameter } from '../../shared/aws/secrets';
import { AwsRequestRefusedError } from '../../shared/domain/step-errors';
import { motoClientConfig, resetMoto } from './moto';
import { outcome } from './support/differential';

/** Key paths of a value, arrays as `[]`. */
function paths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((item) => paths(item, `${prefix}[]`)))].sort();
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.entries(value)
      .flatMap(([key, item]) => [`${prefix}.${key}`, ...paths(item, `${prefix}.${key}`)])
      .sort();
  }
  return [];
}

const NAME = '/kiln/ci/slack-webhook';
const SECRET = 'https://hooks.slack.com/services/T000/B000/XXXX';

let moto: SSMClient;
let sim: SsmSim;

beforeAll(() => {
  moto = new SSMClient(motoClientConfig());
});
afterAll(() => moto.destroy());
beforeEach(async () => {
  await resetMoto();
  const ctx = createTestContext(1);
  sim = new SsmSim(ctx, new Ec2Sim(ctx));
});

async function both(operation: 'PutParameter' | 'GetParameter', input: Record<string, unknown>) {
  const command =
    operation === 'PutParameter'
      ? new PutParameterCommand(input as never)
      : new GetParameterCommand(input as never);
  return [
    await outcome(() => moto.send(command as never)),
    await outcome(() => sim.handle(operation, input)),
  ];
}

async function putBoth(input: Record<string, unknown>): Promise<void> {
  const [m, s] = await both('PutParameter', input);
  if (!m?.ok || !s?.ok) throw new Error(JSON.stringify({ m, s }));
}

describe('SSM SecureString conformance (moto vs SsmSim)', () => {
  describe('PutParameter Type SecureString', () => {
    it('answers the same Version and Tier, first and on Overwrite', async () => {
      const first = await both('PutParameter', { Name: NAME, Value: SECRET, Type: 'SecureString' });
      const again = await both('PutParameter', {
        Name: NAME,
        Value: `${SECRET}2`,
        Type: 'SecureString',
        KeyId: 'alias/kiln',
        Overwrite: true,
      });
      expect(first[1]).toEqual(first[0]);
      expect(again[1]).toEqual(again[0]);
      expect(again[1]).toEqual({ ok: true, value: { Version: 2, Tier: 'Standard' } });
    });

    it('refuses a second put without Overwrite with the same error', async () => {
      await putBoth({ Name: NAME, Value: SECRET, Type: 'SecureString' });
      const [m, s] = await both('PutParameter', { Name: NAME, Value: SECRET, Type: 'SecureString' });
      expect(s).toEqual(m);
      expect(s).toMatchObject({ ok: false, name: 'ParameterAlreadyExists' });
    });

    it('refuses a new parameter without Type with the same error', async () => {
      const [m, s] = await both('PutParameter', { Name: NAME, Value: SECRET });
      expect(s).toEqual(m);
      expect(s).toMatchObject({ ok: false, name: 'ValidationException' });
    });

    it('refuses KeyId on a String parameter (sim only: moto accepts it)', async () => {
      const m = await outcome(() =>
        moto.send(new PutParameterCommand({ Name: NAME, Value: 'v', Type: 'String', KeyId: 'alias/kiln' })),
      );
      const s = await outcome(() =>
        sim.handle('PutParameter', { Name: NAME, Value: 'v', Type: 'String', KeyId: 'alias/kiln' }),
      );
      expect(m.ok).toBe(true);
      expect(s).toMatchObject({ ok: false, message: 'KeyId is only valid for SecureString parameters.' });
    });
  });

  describe('GetParameter', () => {
    beforeEach(() => putBoth({ Name: NAME, Value: SECRET, Type: 'SecureString' }));

    it('WithDecryption: the plaintext, in the same output structure', async () => {
      const [m, s] = await both('GetParameter', { Name: NAME, WithDecryption: true });
      if (!m?.ok || !s?.ok) throw new Error(JSON.stringify({ m, s }));
      expect(paths(s.value)).toEqual(paths(m.value));
      const { LastModifiedDate: _m, ...motoParameter } = m.value.Parameter as Record<string, unknown>;
      const { LastModifiedDate: _s, ...simParameter } = s.value.Parameter as Record<string, unknown>;
      expect(simParameter).toEqual(motoParameter);
      expect(simParameter).toMatchObject({ Type: 'SecureString', Value: SECRET, Version: 1 });
    });

    it('without WithDecryption: the same structure, and not the plaintext', async () => {
      const [m, s] = await both('GetParameter', { Name: NAME });
      if (!m?.ok || !s?.ok) throw new Error(JSON.stringify({ m, s }));
      expect(paths(s.value)).toEqual(paths(m.value));
      const value = (o: Record<string, unknown>) => (o.Parameter as { Value?: string }).Value;
      expect(value(m.value)).not.toBe(SECRET);
      expect(value(s.value)).not.toBe(SECRET);
      expect(value(s.value)).toEqual(expect.any(String));
    });

    it('a :version selector reads that version decrypted, with its Selector', async () => {
      await putBoth({ Name: NAME, Value: `${SECRET}2`, Type: 'SecureString', Overwrite: true });
      const [m, s] = await both('GetParameter', { Name: `${NAME}:1`, WithDecryption: true });
      if (!m?.ok || !s?.ok) throw new Error(JSON.stringify({ m, s }));
      // moto omits Selector; the Parameter reference has it ("Either the version number or the label
      // used to retrieve the parameter value", parameter_name:version),
      // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Parameter.html
      expect(paths(s.value)).toEqual([...paths(m.value), '.Parameter.Selector'].sort());
      expect(s.value.Parameter).toMatchObject({ Value: SECRET, Version: 1, Selector: ':1' });
      expect(m.value.Parameter).toMatchObject({ Value: SECRET, Version: 1 });
    });

    it('refuses a missing parameter with the same ParameterNotFound', async () => {
      const [m, s] = await both('GetParameter', { Name: '/kiln/ci/none', WithDecryption: true });
      expect(s).toEqual(m);
      expect(s).toMatchObject({ ok: false, name: 'ParameterNotFound' });
    });

    it('refuses a missing version with ParameterVersionNotFound (moto adds a sentence)', async () => {
      const [m, s] = await both('GetParameter', { Name: `${NAME}:9`, WithDecryption: true });
      if (m?.ok !== false || s?.ok !== false) throw new Error(JSON.stringify({ m, s }));
      expect(s.name).toBe(m.name);
      expect(m.message.startsWith(s.message)).toBe(true);
    });
  });
});

describe('Parameter adapters against moto', () => {
  beforeEach(async () => {
    await moto.send(new PutParameterCommand({ Name: NAME, Value: SECRET, Type: 'SecureString' }));
  });

  describe('SecureParameters', () => {
    it('reads the SecureString decrypted', async () => {
      await expect(new SecureParameters(moto).value(NAME)).resolves.toBe(SECRET);
    });

    it('says a missing parameter does not exist, naming it', async () => {
      await expect(new SecureParameters(moto).value('/kiln/ci/none')).rejects.toThrow(
        'the parameter /kiln/ci/none does not exist',
      );
    });

    it('keeps a value for cacheMs: a change within it is not read', async () => {
      let now = 0;
      const parameters = new SecureParameters(moto, { now: () => now, cacheMs: 1000 });
      await parameters.value(NAME);
      await moto.send(
        new PutParameterCommand({ Name: NAME, Value: 'rotated', Type: 'SecureString', Overwrite: true }),
      );
      now = 999;
      await expect(parameters.value(NAME)).resolves.toBe(SECRET);
      now = 1000;
      await expect(parameters.value(NAME)).resolves.toBe('rotated');
    });
  });

  describe('SlackSecretsParameter', () => {
    it('reads a JSON SecureString decrypted into the signing secret and bot token', async () => {
      await moto.send(
        new PutParameterCommand({
          Name: '/kiln/ci/slack',
          Value: JSON.stringify({ signingSecret: 's3cr3t', botToken: 'xoxb-1' }),
          Type: 'SecureString',
        }),
      );
      await expect(new SlackSecretsParameter(moto, '/kiln/ci/slack').get()).resolves.toEqual({
        signingSecret: 's3cr3t',
        botToken: 'xoxb-1',
      });
    });

    it("refuses a missing parameter as an AWS refusal with moto's ParameterNotFound", async () => {
      const read = new SlackSecretsParameter(moto, '/kiln/ci/none').get();
      await expect(read).rejects.toBeInstanceOf(AwsRequestRefusedError);
      await expect(read).rejects.toMatchObject({ code: 'ParameterNotFound' });
    });
  });
});
