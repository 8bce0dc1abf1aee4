// Type-aware lint. `console` and `process` are for the CLI only: the core takes its I/O as
// parameters (STYLE.md §5).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/.work/**', 'examples/*/work/**', 'examples/*/out/**', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'bench/*.mjs', 'examples/*/scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: {
        fetch: 'readonly',
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/unified-signatures': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-globals': ['error', { name: 'process', message: 'Only src/cli touches process; take it as a parameter.' }],
    },
  },
  {
    // Small modules and functions (issue 10): every line counts, blank lines and comments included.
    // `npm run sizes` lists the largest files and longest functions.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    // Spawning and signalling process groups is the executor's job (and its watchdog's); tagging
    // what function tasks start wraps node:child_process, whose default environment is process.env.
    files: ['src/runner/execute/spawn.ts', 'src/runner/process-groups.ts', 'src/runner/execute/child-env.ts'],
    rules: { 'no-restricted-globals': 'off' },
  },
  {
    // Runs `node --check` (process.execPath) to place a config's syntax error.
    files: ['src/config/check-syntax.ts'],
    rules: { 'no-restricted-globals': 'off' },
  },
  {
    // A worker's entry point (runcue/worker): it runs in the worker process runcue spawned, owns
    // that process's stdin, stdout and exit code, and routes console.log to stderr while serving.
    files: ['src/worker/serve.ts'],
    rules: { 'no-restricted-globals': 'off', 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'bench/**', 'examples/**', 'test/**'],
    ...tseslint.configs.disableTypeChecked,
  },
);
