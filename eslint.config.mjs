// ESLint flat config: typescript-eslint's type-checked recommended rules, minus those the code does
// not satisfy yet (each would need a wide rewrite; listed below and in CONTRIBUTING.md), plus
// no-floating-promises: a lost promise hides its error and its ordering. Unused names are left to
// tsc (noUnusedLocals/noUnusedParameters); formatting is Prettier's job.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'relay/dist/', 'test-artifacts/', '.portway-demo/', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/it()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      // Async listeners (net servers, 'stream' events) are common in the tests; to be reviewed.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': 'off', // tsc reports these
      '@typescript-eslint/no-namespace': 'off', // protocol/rpc.ts groups each RPC's types in a namespace
      '@typescript-eslint/require-await': 'off', // async methods that implement a Promise-returning interface
      // Not satisfied yet; turning one on means fixing its findings across the tree first.
      '@typescript-eslint/no-unsafe-member-access': 'off', // JSON.parse results in tests
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      'prefer-const': 'off', // `let a!: T` pairs that refer to each other (test/unit/mux-session.test.ts)
    },
  },
);
