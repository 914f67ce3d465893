// Lint for the TypeScript sources: typescript-eslint's recommended rules (not the type-checked set,
// so a lint run needs no compile). Editors run in the browser, everything else in Node.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'examples/**', 'test/compat/**', '.node-red-data/**', '.bench-results/**', '.cache/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // `_`-prefixed parameters are the ones a callback signature needs but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // TypeScript already reports undefined names, with the right globals per tsconfig.
      'no-undef': 'off',
      // `import x = require('...')` is how TypeScript imports an `export =` module (Node-RED's node files).
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // Ids, topics and console lines are checked for control characters on purpose.
      'no-control-regex': 'off',
    },
  },
);
