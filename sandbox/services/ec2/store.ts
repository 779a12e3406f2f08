/**
 * The region's EC2 resources that more than one part reads (instances, images, launch templates),
 * and the lookups that answer a missing or malformed id with EC2's own error.
 */
import { IMAGE_ID, INSTANCE_ID, ec2Error } from './model';
import type {
  ImageRecord,
  InstanceRecord,
  LaunchTemplateRecord,
  LaunchTemplateVersionRecord,
  SnapshotRecord,
} from './model';

export class Ec2Store {
  readonly instances = new Map<string, InstanceRecord>();
  readonly images = new Map<string, ImageRecord>();
  readonly launchTemplates = new Map<string, LaunchTemplateRecord>();
  readonly snapshots = new Map<string, SnapshotRecord>();
  /**
   * Moves on every change to which instances exist, their state, tags or application behaviour:
   * readers that go over the whole fleet every few virtual seconds (ELB traffic, a story's
   * sampler) reuse what they computed while it stands still.
   */
  instancesVersion = 0;

  requireInstances(ids: readonly string[]): InstanceRecord[] {
    const malformed = ids.find((id) => !INSTANCE_ID.test(id));
    if (malformed !== undefined) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
    const missing = ids.filter((id) => !this.instances.has(id));
    if (missing.length === 1) {
      throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    }
    if (missing.length > 1) {
      throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    }
    return [...new Set(ids)].map((id) => this.mustGetInstance(id));
  }

  mustGetInstance(id: string): InstanceRecord {
    const record = this.instances.get(id);
    if (!record) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return record;
  }

  requireImages(ids: readonly string[]): ImageRecord[] {
    const malformed = ids.find((id) => !IMAGE_ID.test(id));
    if (malformed !== undefined) {
      throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${malformed}" (expecting "ami-...")`);
    }
    const missing = ids.filter((id) => !this.images.has(id));
    if (missing.length === 1)
      throw ec2Error('InvalidAMIID.NotFound', `The image id '[${missing[0]}]' does not exist`);
    if (missing.length > 1) {
      throw ec2Error('InvalidAMIID.NotFound', `The image ids '[${missing.join(', ')}]' do not exist`);
    }
    return [...new Set(ids)].flatMap((id) => {
      const image = this.images.get(id);
      return image ? [image] : [];
    });
  }

  requireLaunchableImage(imageId: string): ImageRecord {
    const [image] = this.requireImages([imageId]);
    if (!image) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (image.state !== 'available') {
      throw ec2Error(
        'InvalidAMIID.Unavailable',
        `The image id '[${imageId}]' is not available (${image.state})`,
      );
    }
    return image;
  }

  findTemplate(id: string | undefined, name: string | undefined): LaunchTemplateRecord {
    if (id !== undefined && name !== undefined) {
      throw ec2Error(
        'InvalidParameterCombination',
        'You must specify either the launch template ID or the launch template name, but not both.',
      );
    }
    if (id !== undefined) {
      const template = this.launchTemplates.get(id);
      if (!template) {
        throw ec2Error(
          'InvalidLaunchTemplateId.NotFound',
          `The specified launch template, with template ID ${id}, does not exist.`,
        );
      }
      return template;
    }
    if (name !== undefined) {
      const template = [...this.launchTemplates.values()].find((t) => t.name === name);
      if (!template) {
        throw ec2Error(
          'InvalidLaunchTemplateName.NotFoundException',
          `The specified launch template, with template name ${name}, does not exist.`,
        );
      }
      return template;
    }
    throw ec2Error(
      'MissingParameter',
      'The request must contain the parameter LaunchTemplateName or LaunchTemplateId',
    );
  }

  resolveVersion(
    template: LaunchTemplateRecord,
    ref: string,
  ): { template: LaunchTemplateRecord; version: LaunchTemplateVersionRecord } {
    const number =
      ref === '$Latest' ? template.latestVersion : ref === '$Default' ? template.defaultVersion : Number(ref);
    const version = Number.isInteger(number) ? template.versions.get(number) : undefined;
    if (!version) {
      throw ec2Error(
        'InvalidLaunchTemplateId.VersionNotFound',
        `Could not find the specified version ${ref} for the launch template with ID ${template.id}.`,
      );
    }
    return { template, version };
  }
}
