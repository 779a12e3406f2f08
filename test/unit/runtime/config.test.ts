import { z } from 'zod';
import { BaseConfigSchema, loadConfig } from '../../../shared/runtime/config';
import { ConfigError, KilnError } from '../../../shared/runtime/errors';

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig(BaseConfigSchema, { KILN_TABLE: 'kiln-dev', AWS_REGION: 'eu-west-1' });
    expect(config).toEqual({ KILN_TABLE: 'kiln-dev', KILN_STAGE: 'dev', AWS_REGION: 'eu-west-1' });
  });

  it('fails fast naming every missing variable', () => {
    const load = () => loadConfig(BaseConfigSchema, { AWS_REGION: 'eu-west-1' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/KILN_TABLE/);
  });

  it('names a malformed variable', () => {
    const Schema = z.object({ KILN_LEASE_SECONDS: z.coerce.number().int().positive() });
    expect(() => loadConfig(Schema, { KILN_LEASE_SECONDS: 'soon' })).toThrow(/KILN_LEASE_SECONDS/);
  });
});

describe('error classes', () => {
  it('carry their own name (Step Functions Catch matches on it) and keep the cause', () => {
    const cause = new Error('socket hang up');
    const error = new ConfigError('bad', { cause });
    expect(error).toBeInstanceOf(KilnError);
    expect(error.name).toBe('ConfigError');
    expect(error.cause).toBe(cause);
  });
});
