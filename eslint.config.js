import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const INNER = { group: ['../*/*.ts', '!../*/index.ts'], message: "Import a module's index.ts (its public face), not its inner files." };
const STORE = { group: ['../store', '../store/*'], message: 'Read clinical data through src/gate, never the store directly.' };

function restrictImports(files, extra) {
  return [{ files, rules: { 'no-restricted-imports': ['error', { patterns: [INNER, ...extra] }] } }];
}

export default tseslint.config(
  { ignores: ['node_modules', '.sharedcare', 'dist', 'web/dist', 'viewer/dist', 'coverage'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['bin/**/*.js', '*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  ...restrictImports(['src/**/*.ts'], []),
  // One gate: the HTTP layer, admin services and the CLI read clinical data only through src/gate
  // (access → policy → audit). They may not reach the store directly; src/api not policy or audit either.
  ...restrictImports(['src/cli/**/*.ts', 'src/admin/**/*.ts'], [STORE]),
  ...restrictImports(['src/api/**/*.ts'], [STORE, { group: ['../policy', '../policy/*', '../audit', '../audit/*'], message: 'src/api reaches data only through src/gate, src/ingest and src/admin.' }]),
);
