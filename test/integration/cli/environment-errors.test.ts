import { closedPort, useBundledKiln } from '../../support/bundled-kiln';

/**
 * The bundled `kiln` command in its own process, as a user runs it (test/support/bundled-kiln.ts):
 * where the exit code reaches the shell and Node's socket errors reach the SDK as they do outside
 * Jest. Endpoints are closed loopback ports.
 */

const kiln = useBundledKiln();

const keys = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' };

describe('the kiln command in a broken AWS environment', () => {
  it('prints one line naming AWS_ENDPOINT_URL_DYNAMODB and exits 2 when the endpoint refuses connections', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;

    const result = kiln(['services', 'list', '--table', 'kiln'], {
      ...keys,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    });

    expect(result).toEqual({
      stdout: '',
      stderr: `kiln: cannot reach DynamoDB at ${endpoint} (connection refused): check AWS_ENDPOINT_URL_DYNAMODB\n`,
      status: 2,
    });
  });

  it('adds the SDK error, with its code and attempts, under KILN_DEBUG=1', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;

    const result = kiln(['history', 'checkout', '--table', 'kiln'], {
      ...keys,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      KILN_DEBUG: '1',
    });

    const [line, ...debug] = result.stderr.split('\n');
    expect(line).toBe(
      `kiln: cannot reach DynamoDB at ${endpoint} (connection refused): check AWS_ENDPOINT_URL_DYNAMODB`,
    );
    expect(debug.join('\n')).toMatch(
      /^kiln: KILN_DEBUG: the AWS SDK reported: Error: connect ECONNREFUSED 127\.0\.0\.1:\d+/,
    );
    expect(debug.join('\n')).toMatch(/code: 'ECONNREFUSED'/);
    expect(debug.join('\n')).toMatch(/attempts: 4/);
    expect(result.status).toBe(2);
  });

  it('prints one line naming AWS_REGION and exits 2 when no region is set', () => {
    const result = kiln(['services', 'list', '--table', 'kiln'], {
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });

    expect(result.stderr).toBe(
      'kiln: no AWS region: set AWS_REGION or pass --region, or add region to the [default] profile in ~/config\n',
    );
    expect(result.status).toBe(2);
  });

  it('prints one line naming the profile and exits 2 when AWS_PROFILE names no profile', () => {
    const result = kiln(['services', 'list', '--table', 'kiln'], { AWS_PROFILE: 'nope' });

    expect(result.stderr).toMatch(/^kiln: AWS profile "nope" not found in .*\n$/);
    expect(result.status).toBe(2);
  });
});
