import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { LaunchTemplates } from '../../../shared/aws/launch-templates';
import { AwsRequestRefusedError, TransientAwsError } from '../../../shared/domain/step-errors';

const ec2Mock = mockClient(EC2Client);

function ec2Error(name: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    message: `${name} happened`,
    $metadata: { httpStatusCode: status },
  });
}

describe('LaunchTemplates', () => {
  let templates: LaunchTemplates;
  beforeEach(() => {
    ec2Mock.reset();
    templates = new LaunchTemplates(new EC2Client({ region: 'us-east-1', maxAttempts: 1 }));
  });

  describe('createVersion', () => {
    const input = {
      launchTemplateId: 'lt-1',
      sourceVersion: 4,
      imageId: 'ami-new',
      description: 'web 1.4.2 (d-1)',
      clientToken: 'token-1',
    };

    it('makes a version from the source version with only the image changed, under the client token', async () => {
      ec2Mock
        .on(CreateLaunchTemplateVersionCommand)
        .resolves({ LaunchTemplateVersion: { LaunchTemplateId: 'lt-1', VersionNumber: 5 } });

      expect(await templates.createVersion(input)).toEqual({ id: 'lt-1', version: 5 });
      expect(ec2Mock.commandCalls(CreateLaunchTemplateVersionCommand)[0]?.args[0].input).toEqual({
        LaunchTemplateId: 'lt-1',
        SourceVersion: '4',
        LaunchTemplateData: { ImageId: 'ami-new' },
        VersionDescription: 'web 1.4.2 (d-1)',
        ClientToken: 'token-1',
      });
    });

    it('refuses a template that does not exist, naming EC2’s code', async () => {
      ec2Mock.on(CreateLaunchTemplateVersionCommand).rejects(ec2Error('InvalidLaunchTemplateId.NotFound'));
      const attempt = templates.createVersion(input);
      await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
      await expect(attempt).rejects.toMatchObject({ code: 'InvalidLaunchTemplateId.NotFound' });
    });

    it('turns a server error into TransientAwsError', async () => {
      ec2Mock.on(CreateLaunchTemplateVersionCommand).rejects(ec2Error('InternalError', 500));
      await expect(templates.createVersion(input)).rejects.toBeInstanceOf(TransientAwsError);
    });
  });

  describe('resolveVersion', () => {
    it('keeps a number without asking EC2', async () => {
      expect(await templates.resolveVersion('lt-1', '7')).toBe(7);
      expect(ec2Mock.calls()).toHaveLength(0);
    });

    it.each([
      ['$Latest', 9],
      ['$Default', 3],
    ])('resolves %s through DescribeLaunchTemplates', async (alias, expected) => {
      ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
        LaunchTemplates: [{ LaunchTemplateId: 'lt-1', LatestVersionNumber: 9, DefaultVersionNumber: 3 }],
      });
      expect(await templates.resolveVersion('lt-1', alias)).toBe(expected);
      expect(ec2Mock.commandCalls(DescribeLaunchTemplatesCommand)[0]?.args[0].input).toEqual({
        LaunchTemplateIds: ['lt-1'],
      });
    });

    it('refuses a version that is neither a number nor an alias', async () => {
      await expect(templates.resolveVersion('lt-1', 'latest')).rejects.toThrow(
        'version "latest" is neither a number, $Latest nor $Default',
      );
    });
  });

  describe('describeVersion', () => {
    it('answers the version and its image', async () => {
      ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
        LaunchTemplateVersions: [
          { LaunchTemplateId: 'lt-1', VersionNumber: 5, LaunchTemplateData: { ImageId: 'ami-new' } },
        ],
      });
      expect(await templates.describeVersion('lt-1', 5)).toEqual({ version: 5, imageId: 'ami-new' });
      expect(ec2Mock.commandCalls(DescribeLaunchTemplateVersionsCommand)[0]?.args[0].input).toEqual({
        LaunchTemplateId: 'lt-1',
        Versions: ['5'],
      });
    });

    it.each(['InvalidLaunchTemplateId.VersionNotFound', 'InvalidLaunchTemplateId.NotFound'])(
      'answers undefined when EC2 says %s',
      async (code) => {
        ec2Mock.on(DescribeLaunchTemplateVersionsCommand).rejects(ec2Error(code));
        expect(await templates.describeVersion('lt-1', 99)).toBeUndefined();
      },
    );
  });
});
