// Lint rules that carry the design's layering: domain code cannot import the AWS SDK.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

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
    files: ['shared/**/*.ts', 'functions/**/*.ts', 'cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [classicZod] }] },
  },
  {
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [classicZod],
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
