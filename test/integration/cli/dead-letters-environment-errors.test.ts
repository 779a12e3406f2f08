import { closedPort, useBundledKiln } from '../../support/bundled-kiln';

/**
 * The bundled `kiln dead-letters` in its own process (test/support/bundled-kiln.ts), where Node's
 * socket errors reach the SDK as they do outside Jest (see environment-errors.test.ts beside this
 * file for the store commands), with the SQS endpoint on a closed loopback port.
 */

const kiln = useBundledKiln({
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'secret',
});

describe('kiln dead-letters in a broken AWS environment', () => {
  it.each([['list'], ['replay', '--all']])(
    '%s prints one line naming AWS_ENDPOINT_URL_SQS and exits 2 when the endpoint refuses connections',
    async (...command) => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;

      const result = kiln(['dead-letters', ...command], {
        AWS_ENDPOINT_URL_SQS: endpoint,
        KILN_DEAD_LETTER_QUEUE: `${endpoint}/123456789012/kiln-test-dead-letters`,
      });

      expect(result).toEqual({
        stdout: '',
        stderr: `kiln: cannot reach SQS at ${endpoint} (connection refused): check AWS_ENDPOINT_URL_SQS\n`,
        status: 2,
      });
    },
  );
});
