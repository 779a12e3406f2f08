// Tests never reach AWS: dummy credentials and a fixed region, and no Node-version nag from the SDK.
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// Kiln's functions log JSON lines to stdout as they would on Lambda; in the sandbox's tests that is
// noise in the test report. A test about logging sets the level it needs.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
