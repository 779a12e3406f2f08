import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { createTestContext } from '../../../sandbox/core/testing';
import { Ec2Sim } from '../../../sandbox/services/ec2';

/** The sandbox's CreateLaunchTemplateVersion under a client token (ec2.test.ts holds the rest). */
describe('Ec2Sim CreateLaunchTemplateVersion with a ClientToken', () => {
  async function templateWithVersion1(): Promise<{ ec2: Ec2Sim; templateId: string }> {
    const ec2 = new Ec2Sim(createTestContext(7), { bootSeconds: 30, bootJitterSeconds: 0 });
    const created = await ec2.launchTemplates.createLaunchTemplate({
      LaunchTemplateName: 'web',
      LaunchTemplateData: { ImageId: 'ami-0aaaaaaaaaaaaaaaa', InstanceType: 't3.micro' },
    });
    return { ec2, templateId: created.LaunchTemplate?.LaunchTemplateId ?? '' };
  }

  const request = (templateId: string, imageId = 'ami-0bbbbbbbbbbbbbbbb') => ({
    LaunchTemplateId: templateId,
    SourceVersion: '1',
    LaunchTemplateData: { ImageId: imageId },
    ClientToken: 'token-1',
  });

  it('answers a repeated request with the version the first one made, making no second version', async () => {
    const { ec2, templateId } = await templateWithVersion1();

    const first = await ec2.handle('CreateLaunchTemplateVersion', request(templateId));
    const again = await ec2.handle('CreateLaunchTemplateVersion', request(templateId));

    expect(again).toEqual(first);
    expect(again).toMatchObject({ LaunchTemplateVersion: { VersionNumber: 2 } });
    const described = await ec2.launchTemplates.describeLaunchTemplates({ LaunchTemplateIds: [templateId] });
    expect(described.LaunchTemplates?.[0]?.LatestVersionNumber).toBe(2);
  });

  it('refuses the same token with other parameters with IdempotentParameterMismatch', async () => {
    const { ec2, templateId } = await templateWithVersion1();
    await ec2.handle('CreateLaunchTemplateVersion', request(templateId));

    const attempt = ec2.handle('CreateLaunchTemplateVersion', request(templateId, 'ami-0ccccccccccccccccc'));

    await expect(attempt).rejects.toBeInstanceOf(EC2ServiceException);
    await expect(attempt).rejects.toMatchObject({ name: 'IdempotentParameterMismatch' });
  });

  it('makes a new version for a new token', async () => {
    const { ec2, templateId } = await templateWithVersion1();
    await ec2.handle('CreateLaunchTemplateVersion', request(templateId));

    const other = await ec2.handle('CreateLaunchTemplateVersion', {
      ...request(templateId),
      ClientToken: 'token-2',
    });

    expect(other).toMatchObject({ LaunchTemplateVersion: { VersionNumber: 3 } });
  });
});
