// Lint rules that carry the design's layering: domain code cannot import the AWS SDK, production
// code draws randomness only in shared/runtime/ids.ts, and start-up code validates with zod/mini.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const RANDOMNESS_MESSAGE =
  'Draw ids through an IdSource (shared/runtime/ids.ts), which the sandbox seeds: one seed, one timeline.';
const RANDOMNESS_IMPORTS = ['node:crypto', 'crypto'].map((name) => ({
  name,
  importNames: ['randomUUID', 'randomBytes', 'randomInt', 'getRandomValues', 'webcrypto'],
  message: RANDOMNESS_MESSAGE,
}));

// What functions and the CLI load at start-up validates with zod/mini (shared/domain/zod.ts says why).
const classicZod = {
  name: 'zod',
  message: 'Import zod from shared/domain/zod (zod/mini): classic zod costs every cold start that loads it.',
};

export default tseslint.config(
  { ignores: ['node_modules', '.serverless', '.esbuild', 'dist', 'coverage', 'bin/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // DESIGN.md rule 10: production code draws ids only through shared/runtime/ids.ts, which the
    // sandbox seeds (test/unit/runtime/ids.test.ts holds the same line over the source text).
    files: ['functions/**/*.ts', 'shared/**/*.ts', 'cli/**/*.ts'],
    ignores: ['shared/runtime/ids.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: RANDOMNESS_MESSAGE },
        { object: 'crypto', property: 'randomUUID', message: RANDOMNESS_MESSAGE },
        { object: 'crypto', property: 'getRandomValues', message: RANDOMNESS_MESSAGE },
      ],
      'no-restricted-imports': ['error', { paths: [...RANDOMNESS_IMPORTS, classicZod] }],
    },
  },
  {
    files: ['shared/domain/**/*.ts'],
    rules: {
      // Replaces the block above's option for these files (flat config), so it repeats its paths.
      'no-restricted-imports': [
        'error',
        {
          paths: [...RANDOMNESS_IMPORTS, classicZod],
          patterns: [{ group: ['@aws-sdk/*', '@smithy/*'], message: 'Domain code is pure: no AWS SDK.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', 'scripts/**'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        globalThis: 'readonly',
      },
    },
  },
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
