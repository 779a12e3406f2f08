/**
 * The project's serverless.yml as parsed when the CLI was bundled, so `kiln sandbox` need not run
 * the YAML parser on it at every start (cold, that parse was about a tenth of a small run's CPU).
 * scripts/build-cli.mjs replaces this module in the bundle with the file's text and its parsed
 * document as JSON; run from sources it is undefined and the file is parsed as usual.
 * parseServerlessYaml uses it only for exactly that text, so an edited serverless.yml is parsed.
 */
export const prebuiltServerlessYaml: { readonly text: string; readonly json: string } | undefined = undefined;
