/**
 * Launch templates and their numbered versions, with $Latest and $Default resolved as EC2 resolves
 * them, and the resolved form other services launch from.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-launch-templates.html
 */
import type {
  CreateLaunchTemplateCommandInput,
  CreateLaunchTemplateCommandOutput,
  CreateLaunchTemplateVersionCommandInput,
  CreateLaunchTemplateVersionCommandOutput,
  DeleteLaunchTemplateCommandInput,
  DeleteLaunchTemplateCommandOutput,
  DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplatesCommandOutput,
  DescribeLaunchTemplateVersionsCommandInput,
  DescribeLaunchTemplateVersionsCommandOutput,
  LaunchTemplate,
  LaunchTemplateVersion,
  ModifyLaunchTemplateCommandInput,
  ModifyLaunchTemplateCommandOutput,
} from '@aws-sdk/client-ec2';
import type { SimContext } from '../../core/context';
import type { ResolvedLaunchTemplate } from '../fleet';
import { isoTime, type Out } from '../shared';
import { checkFilterNames, matchesFilters, tagFilterValues } from './filters';
import { ec2Error, required } from './model';
import type { LaunchTemplateRecord, LaunchTemplateVersionRecord } from './model';
import type { Ec2Store } from './store';
import { tagsFor, toTagList } from './tags';

/** A template version as Auto Scaling and RunInstances launch from it. */
export function toResolved(
  template: LaunchTemplateRecord,
  version: LaunchTemplateVersionRecord,
  requireImage: boolean,
): ResolvedLaunchTemplate {
  const imageId = requireImage ? required(version.data.ImageId, 'ImageId') : (version.data.ImageId ?? '');
  return {
    launchTemplateId: template.id,
    launchTemplateName: template.name,
    version: version.number,
    imageId,
    instanceType: version.data.InstanceType ?? 'm1.small',
    securityGroupIds: [...(version.data.SecurityGroupIds ?? [])],
    tags: tagsFor(version.data.TagSpecifications, 'instance'),
  };
}

export class LaunchTemplates {
  /** CreateLaunchTemplateVersion's client tokens: the request they came with and the version made. */
  private readonly versionTokens = new Map<
    string,
    { fingerprint: string; templateId: string; number: number }
  >();

  constructor(
    private readonly ctx: SimContext,
    private readonly store: Ec2Store,
  ) {}

  // ---------------------------------------------------------------- operations

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html
  createLaunchTemplate(input: CreateLaunchTemplateCommandInput): Out<CreateLaunchTemplateCommandOutput> {
    const name = required(input.LaunchTemplateName, 'LaunchTemplateName');
    const data = required(input.LaunchTemplateData, 'LaunchTemplateData');
    if (!/^[a-zA-Z0-9().\-/_]{3,128}$/.test(name)) {
      throw ec2Error(
        'InvalidLaunchTemplateName.MalformedException',
        'A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.',
      );
    }
    if ([...this.store.launchTemplates.values()].some((template) => template.name === name)) {
      throw ec2Error(
        'InvalidLaunchTemplateName.AlreadyExistsException',
        'Launch template name already in use.',
      );
    }
    const now = this.ctx.clock.now();
    const template: LaunchTemplateRecord = {
      id: this.ctx.ids.next('lt'),
      name,
      createTime: now,
      defaultVersion: 1,
      latestVersion: 1,
      versions: new Map(),
      tags: tagsFor(input.TagSpecifications, 'launch-template'),
    };
    template.versions.set(1, {
      number: 1,
      ...(input.VersionDescription !== undefined ? { description: input.VersionDescription } : {}),
      createTime: now,
      data: structuredClone(data),
    });
    this.store.launchTemplates.set(template.id, template);
    return { LaunchTemplate: this.renderTemplate(template) };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html
  createLaunchTemplateVersion(
    input: CreateLaunchTemplateVersionCommandInput,
  ): Out<CreateLaunchTemplateVersionCommandOutput> {
    // Same ClientToken and same request: the version the first request made; a different request:
    // IdempotentParameterMismatch (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
    const { ClientToken: token, ...request } = input;
    const fingerprint = JSON.stringify(request);
    const previous = token === undefined ? undefined : this.versionTokens.get(token);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        throw ec2Error(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a request that has different parameters.',
        );
      }
      const made = this.store.launchTemplates.get(previous.templateId);
      const version = made?.versions.get(previous.number);
      // A template deleted since then no longer has the version: the request runs as a new one.
      if (made && version) return { LaunchTemplateVersion: this.renderVersion(made, version) };
    }
    const data = required(input.LaunchTemplateData, 'LaunchTemplateData');
    const template = this.store.findTemplate(input.LaunchTemplateId, input.LaunchTemplateName);
    // With SourceVersion the new version inherits the source's parameters and the given ones
    // overwrite them; without it the version holds only what is given.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html
    const base =
      input.SourceVersion !== undefined
        ? this.store.resolveVersion(template, input.SourceVersion).version.data
        : {};
    const number = template.latestVersion + 1;
    const version: LaunchTemplateVersionRecord = {
      number,
      ...(input.VersionDescription !== undefined ? { description: input.VersionDescription } : {}),
      createTime: this.ctx.clock.now(),
      data: structuredClone({ ...base, ...data }),
    };
    template.versions.set(number, version);
    template.latestVersion = number;
    if (token !== undefined) this.versionTokens.set(token, { fingerprint, templateId: template.id, number });
    return { LaunchTemplateVersion: this.renderVersion(template, version) };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyLaunchTemplate.html
  modifyLaunchTemplate(input: ModifyLaunchTemplateCommandInput): Out<ModifyLaunchTemplateCommandOutput> {
    const template = this.store.findTemplate(input.LaunchTemplateId, input.LaunchTemplateName);
    if (input.DefaultVersion !== undefined) {
      template.defaultVersion = this.store.resolveVersion(template, input.DefaultVersion).version.number;
    }
    return { LaunchTemplate: this.renderTemplate(template) };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeLaunchTemplates.html
  describeLaunchTemplates(
    input: DescribeLaunchTemplatesCommandInput,
  ): Out<DescribeLaunchTemplatesCommandOutput> {
    const filters = input.Filters ?? [];
    checkFilterNames(filters, ['launch-template-name', 'create-time', 'tag-key', 'tag-value']);
    let candidates = [...this.store.launchTemplates.values()];
    if (input.LaunchTemplateIds && input.LaunchTemplateIds.length > 0) {
      candidates = input.LaunchTemplateIds.map((id) => this.store.findTemplate(id, undefined));
    }
    if (input.LaunchTemplateNames && input.LaunchTemplateNames.length > 0) {
      const names = input.LaunchTemplateNames;
      candidates = candidates.filter((template) => names.includes(template.name));
      if (candidates.length < names.length) {
        throw ec2Error(
          'InvalidLaunchTemplateName.NotFoundException',
          'At least one of the launch templates specified in the request does not exist.',
        );
      }
    }
    const LaunchTemplates = candidates
      .filter((template) =>
        matchesFilters(filters, (name) => {
          if (name === 'launch-template-name') return [template.name];
          if (name === 'create-time') return [isoTime(template.createTime)];
          return tagFilterValues(template.tags, name) ?? [];
        }),
      )
      .map((template) => this.renderTemplate(template));
    return { LaunchTemplates };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeLaunchTemplateVersions.html
  describeLaunchTemplateVersions(
    input: DescribeLaunchTemplateVersionsCommandInput,
  ): Out<DescribeLaunchTemplateVersionsCommandOutput> {
    if (input.Filters && input.Filters.length > 0) {
      throw ec2Error(
        'UnsupportedOperation',
        'The sandbox does not simulate DescribeLaunchTemplateVersions filters.',
      );
    }
    const versions = input.Versions ?? [];
    if (input.LaunchTemplateId === undefined && input.LaunchTemplateName === undefined) {
      // Across all templates only the aliases are allowed.
      const aliasesOnly = versions.length > 0 && versions.every((v) => v === '$Latest' || v === '$Default');
      if (!aliasesOnly) {
        throw ec2Error(
          versions.length === 0 ? 'MissingParameter' : 'InvalidParameterValue',
          'To describe the launch template data for all your launch templates, specify $Latest, $Default, or both for Versions and omit LaunchTemplateId, LaunchTemplateName and version numbers.',
        );
      }
      const LaunchTemplateVersions = [...this.store.launchTemplates.values()].flatMap((template) =>
        [...new Set(versions.map((v) => this.store.resolveVersion(template, v).version))].map((version) =>
          this.renderVersion(template, version),
        ),
      );
      return { LaunchTemplateVersions };
    }
    const template = this.store.findTemplate(input.LaunchTemplateId, input.LaunchTemplateName);
    let selected: LaunchTemplateVersionRecord[];
    if (versions.length > 0) {
      selected = versions.map((v) => this.store.resolveVersion(template, v).version);
    } else {
      const min =
        input.MinVersion !== undefined ? this.versionNumber(input.MinVersion, 'MinVersion') : -Infinity;
      const max =
        input.MaxVersion !== undefined ? this.versionNumber(input.MaxVersion, 'MaxVersion') : Infinity;
      selected = [...template.versions.values()]
        .filter((version) => version.number >= min && version.number <= max)
        .sort((a, b) => a.number - b.number);
    }
    return { LaunchTemplateVersions: selected.map((version) => this.renderVersion(template, version)) };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteLaunchTemplate.html
  deleteLaunchTemplate(input: DeleteLaunchTemplateCommandInput): Out<DeleteLaunchTemplateCommandOutput> {
    const template = this.store.findTemplate(input.LaunchTemplateId, input.LaunchTemplateName);
    this.store.launchTemplates.delete(template.id);
    return { LaunchTemplate: this.renderTemplate(template) };
  }

  // ---------------------------------------------------------------- for the other services

  resolveLaunchTemplate(ref: {
    launchTemplateId?: string;
    launchTemplateName?: string;
    version?: string;
  }): ResolvedLaunchTemplate {
    const template = this.store.findTemplate(ref.launchTemplateId, ref.launchTemplateName);
    const { version } = this.store.resolveVersion(template, ref.version ?? '$Default');
    return toResolved(template, version, true);
  }

  // ---------------------------------------------------------------- helpers

  private versionNumber(value: string, field: string): number {
    const number = Number(value);
    if (!Number.isInteger(number) || number < 1) {
      throw ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${field} is invalid.`);
    }
    return number;
  }

  private renderTemplate(template: LaunchTemplateRecord): LaunchTemplate {
    return {
      LaunchTemplateId: template.id,
      LaunchTemplateName: template.name,
      CreateTime: new Date(template.createTime),
      CreatedBy: `arn:aws:iam::${this.ctx.accountId}:root`,
      DefaultVersionNumber: template.defaultVersion,
      LatestVersionNumber: template.latestVersion,
      ...(Object.keys(template.tags).length > 0 ? { Tags: toTagList(template.tags) } : {}),
    };
  }

  private renderVersion(
    template: LaunchTemplateRecord,
    version: LaunchTemplateVersionRecord,
  ): LaunchTemplateVersion {
    return {
      LaunchTemplateId: template.id,
      LaunchTemplateName: template.name,
      VersionNumber: version.number,
      ...(version.description !== undefined ? { VersionDescription: version.description } : {}),
      CreateTime: new Date(version.createTime),
      CreatedBy: `arn:aws:iam::${this.ctx.accountId}:root`,
      DefaultVersion: version.number === template.defaultVersion,
      LaunchTemplateData: structuredClone(version.data),
    };
  }
}
