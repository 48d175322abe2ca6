import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/lib/**', '**/node_modules/**', '**/bench/**', 'scripts/**', '.test-results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'List named exports instead of export *.' },
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': ['error', { patterns: [{ group: ['../../*/src/*', '**/packages/*/src/*'], message: 'Import @strata/<pkg>.' }] }],
    },
  },
  {
    files: ['tests/**/*.ts', '**/*.test.ts', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
