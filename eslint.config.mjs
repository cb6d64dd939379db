import js from '@eslint/js';
import obsidianmd from 'eslint-plugin-obsidianmd';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'data/', '**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The engine is pure: no wall clock, no platform modules. Time comes from the injected Clock.
    files: ['scheduler/**/*.ts', 'protocol/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Use the injected Clock.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Use the injected Clock.',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'node:*',
            'fastify*',
            'better-sqlite3',
            'sql.js',
            'obsidian',
            '../server/*',
            '../plugin/*',
          ],
        },
      ],
    },
  },
  // The Obsidian plugin's code (not its tests, fakes or browser harness, which run in Node):
  // eslint-plugin-obsidianmd's recommended rules, type-checked, none disabled.
  ...obsidianmd.configs.recommended.map((config) =>
    config.files?.includes('package.json')
      ? config
      : { ...config, basePath: 'plugin', ignores: ['**/*.test.ts', '**/testing/**', 'e2e/**'] },
  ),
  {
    // package.json is the plugin's too: the block above checks its dependencies; the code rules
    // this file sets for every file above do not apply to JSON.
    files: ['package.json'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    basePath: 'plugin',
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**', 'e2e/**'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
);
