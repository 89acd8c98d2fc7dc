// One ESLint configuration for every package: strict, type-aware TypeScript rules.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      // instrumentation's CommonJS build output.
      'instrumentation/dist-cjs/**',
      '**/node_modules/**',
      '**/coverage/**',
      'data/**',
      '.test-output/**',
      '.scratch/**',
      // The Grafana plugin has its own create-plugin ESLint and Prettier setup (npm run lint -w plugin).
      'plugin/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.mjs', 'scripts/*.mjs', 'collector/bin/*.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.mjs', 'collector/bin/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // node:test's describe/it return promises that the runner awaits itself.
    files: ['**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
