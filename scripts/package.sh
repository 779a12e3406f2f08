#!/usr/bin/env bash
# Packages Kiln offline into a CloudFormation template (.serverless/) and lints it with cfn-lint.
# No AWS account or network is needed: osls only reads dummy credentials to pick a region.
# Usage: npm run package [-- --stage STAGE --region REGION --param artifactBuckets=a,b]
set -euo pipefail
cd "$(dirname "$0")/.."
stage=ci
region=us-east-1
params=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage="$2"; shift 2 ;;
    --region) region="$2"; shift 2 ;;
    --param) params+=(--param "$2"); shift 2 ;;
    *) echo "package: unknown option $1 (expected --stage, --region or --param)" >&2; exit 2 ;;
  esac
done
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-offline}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-offline}"
export AWS_REGION="$region" SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off
npx osls package --stage "$stage" --region "$region" "${params[@]}"
template=.serverless/cloudformation-template-update-stack.json
echo "package: $template ($(wc -c <"$template") bytes), $(ls .serverless/*.zip | wc -l) function bundles"
node scripts/check-template.mjs "$template"
if command -v cfn-lint >/dev/null 2>&1; then
  # W3005 (redundant DependsOn on roles the plugins generate) is a warning, not an error; the
  # exit code of cfn-lint is non-zero on any finding, so count errors ourselves.
  set +e
  out=$(cfn-lint --format parseable "$template")
  set -e
  errors=$(printf '%s\n' "$out" | grep -c ':E[0-9]' || true)
  [ -n "$out" ] && printf '%s\n' "$out"
  echo "cfn-lint: $errors errors"
  [ "$errors" -eq 0 ]
else
  echo "cfn-lint is not installed: skipping the template lint (pip install cfn-lint)" >&2
fi
