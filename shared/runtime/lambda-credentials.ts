/**
 * What a deployed function's bundle holds in place of the AWS SDK's default credential chain
 * (`@aws-sdk/credential-provider-node`): serverless.yml's `custom.esbuild.alias` points that
 * package here, so every SDK client a function makes (DynamoDB, Step Functions, EC2, SSM, …)
 * takes its credentials from the environment, and none of the chain's other providers (SSO, ini
 * and credentials files, credential_process, web identity, container and instance metadata, with
 * the STS and SSO clients they carry) is bundled, parsed or run at a cold start.
 *
 * On Lambda this is what the default chain does anyway: Lambda puts the execution role's
 * credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN of every
 * function's environment ("Defined runtime environment variables",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * and the chain's first provider is `fromEnv` (it is skipped only when AWS_PROFILE is set, which
 * Lambda does not set and Kiln's functions do not either). `fromEnv` is the SDK's own provider
 * (https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-aws-sdk-credential-provider-env/).
 * The SDK's maintainers keep the whole chain in every client so that one bundle runs anywhere
 * (https://github.com/aws/aws-sdk-js-v3/issues/5516); a Lambda bundle only ever runs on Lambda.
 *
 * The CLI, the sandbox and the tests are not bundled with the alias and keep the default chain.
 * Same name and signature as the package's export: if a later SDK imports anything else from it,
 * the build fails rather than running without it.
 */
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export const defaultProvider = (init?: FromEnvInit): AwsCredentialIdentityProvider => fromEnv(init);
