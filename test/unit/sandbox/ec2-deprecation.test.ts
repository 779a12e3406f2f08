/**
 * AMI deprecation in the sandbox's EC2, as AWS documents it:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableImageDeprecation.html and
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html.
 */
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { createTestContext, SANDBOX_EPOCH } from '../../../sandbox/core/testing';
import { Ec2Sim } from '../../../sandbox/services/ec2';

const MINUTE = 60_000;
const YEAR_MS = 365 * 86_400_000;

function setup() {
  const ctx = createTestContext(3);
  const ec2 = new Ec2Sim(ctx, { bootSeconds: 30, bootJitterSeconds: 0 });
  const own = ec2.seedImage({ name: 'kiln-web-1.0.0' });
  const amazon = ec2.seedImage({ name: 'al2023-ami-x86_64', ownerAlias: 'amazon' });
  return { ctx, ec2, own, amazon };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EC2ServiceException) return error.name;
    throw error;
  }
  throw new Error('expected the call to fail');
}

async function deprecationOf(s: ReturnType<typeof setup>, imageId: string): Promise<string | undefined> {
  const output = await s.ec2.images.describeImages({ ImageIds: [imageId] });
  return output.Images?.[0]?.DeprecationTime;
}

describe('sandbox EC2: AMI deprecation', () => {
  describe('EnableImageDeprecation', () => {
    it('sets the time, rounding the seconds to the nearest minute, and DescribeImages shows it', async () => {
      const s = setup();
      const at = SANDBOX_EPOCH + 10 * MINUTE + 31_000;
      const output = await s.ec2.handle('EnableImageDeprecation', {
        ImageId: s.own,
        DeprecateAt: new Date(at),
      });
      expect(output).toMatchObject({ Return: true });
      expect(await deprecationOf(s, s.own)).toBe(new Date(SANDBOX_EPOCH + 11 * MINUTE).toISOString());
    });

    it('rounds 29 seconds down', async () => {
      const s = setup();
      await s.ec2.handle('EnableImageDeprecation', {
        ImageId: s.own,
        DeprecateAt: new Date(SANDBOX_EPOCH + 10 * MINUTE + 29_000),
      });
      expect(await deprecationOf(s, s.own)).toBe(new Date(SANDBOX_EPOCH + 10 * MINUTE).toISOString());
    });

    it('refuses a time in the past and changes nothing', async () => {
      const s = setup();
      await s.ctx.fakeClock.tickAsync(5 * MINUTE);
      expect(
        await codeOf(
          s.ec2.handle('EnableImageDeprecation', { ImageId: s.own, DeprecateAt: new Date(SANDBOX_EPOCH) }),
        ),
      ).toBe('InvalidParameterValue');
      expect(await deprecationOf(s, s.own)).toBeUndefined();
    });

    it('refuses a time more than 10 years from now', async () => {
      const s = setup();
      expect(
        await codeOf(
          s.ec2.handle('EnableImageDeprecation', {
            ImageId: s.own,
            DeprecateAt: new Date(SANDBOX_EPOCH + 11 * YEAR_MS),
          }),
        ),
      ).toBe('InvalidParameterValue');
    });

    it('replaces an earlier setting', async () => {
      const s = setup();
      for (const minutes of [30, 5]) {
        await s.ec2.handle('EnableImageDeprecation', {
          ImageId: s.own,
          DeprecateAt: new Date(SANDBOX_EPOCH + minutes * MINUTE),
        });
      }
      expect(await deprecationOf(s, s.own)).toBe(new Date(SANDBOX_EPOCH + 5 * MINUTE).toISOString());
    });

    it("refuses an image that does not exist, and another account's image", async () => {
      const s = setup();
      const at = new Date(SANDBOX_EPOCH + MINUTE);
      expect(
        await codeOf(
          s.ec2.handle('EnableImageDeprecation', { ImageId: 'ami-0123456789abcdef0', DeprecateAt: at }),
        ),
      ).toBe('InvalidAMIID.NotFound');
      expect(
        await codeOf(s.ec2.handle('EnableImageDeprecation', { ImageId: s.amazon, DeprecateAt: at })),
      ).toBe('AuthFailure');
    });
  });

  describe('DisableImageDeprecation', () => {
    it('cancels the deprecation; cancelling again changes nothing', async () => {
      const s = setup();
      await s.ec2.handle('EnableImageDeprecation', {
        ImageId: s.own,
        DeprecateAt: new Date(SANDBOX_EPOCH + MINUTE),
      });
      for (let i = 0; i < 2; i++) {
        expect(await s.ec2.handle('DisableImageDeprecation', { ImageId: s.own })).toMatchObject({
          Return: true,
        });
      }
      expect(await deprecationOf(s, s.own)).toBeUndefined();
    });
  });

  describe('DescribeImages', () => {
    it('still lists a deprecated image for its owner ("AMI owners continue to see deprecated AMIs")', async () => {
      const s = setup();
      await s.ec2.handle('EnableImageDeprecation', {
        ImageId: s.own,
        DeprecateAt: new Date(SANDBOX_EPOCH + MINUTE),
      });
      await s.ctx.fakeClock.tickAsync(2 * MINUTE);
      const mine = await s.ec2.images.describeImages({ Owners: ['self'] });
      expect(mine.Images?.map((i) => i.ImageId)).toEqual([s.own]);
    });
  });
});
