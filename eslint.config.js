import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'lib/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  // The house rules for src/ (README "Layout"):
  // - a domain folder is used from outside only through its index.ts, its API;
  // - only src/actions/* talk to the runner (@actions/core);
  // - only platform/exec.ts starts programs: everything else goes through its funnel;
  // - every throw says which kind it is (platform/errors.ts), so no bare `new Error(`.
  ...houseRules(),
);

function houseRules() {
  const throughIndex = {
    group: ['../*/*', '!../*/index.js', '../../*/*', '!../../*/index.js'],
    message: 'Import another domain through its index.ts (its API), not its files.',
  };
  const notActions = {
    group: ['../actions/*', '../../actions/*'],
    message: 'The library does not import the action entries; move what is shared below src/.',
  };
  const core = { name: '@actions/core', message: 'Only src/actions/* talk to the runner.' };
  const spawn = ['node:child_process', 'child_process'].map((name) => ({
    name,
    message: 'Start programs through the funnel: exec() from src/platform/exec.ts.',
  }));
  const imports = (paths, patterns) => ({
    'no-restricted-imports': ['error', { paths, patterns }],
  });
  const kindMessage =
    'Say which kind it is: ConfigurationError, ExternalError (or a subclass) or Bug (src/platform/errors.ts).';
  // The forms that reach child_process past no-restricted-imports: import(), require().
  const spawnSyntax = [
    {
      selector: 'ImportExpression[source.value=/^(node:)?child_process$/]',
      message: 'Start programs through the funnel: exec() from src/platform/exec.ts.',
    },
    {
      selector: 'CallExpression[arguments.0.value=/^(node:)?child_process$/]',
      message: 'Start programs through the funnel: exec() from src/platform/exec.ts.',
    },
  ];
  return [
    {
      files: ['src/**/*.ts'],
      rules: {
        ...imports([core, ...spawn], [throughIndex, notActions]),
        'no-restricted-syntax': [
          'error',
          { selector: "NewExpression[callee.name='Error']", message: kindMessage },
          { selector: "CallExpression[callee.name='Error']", message: kindMessage },
          // `new (cond ? A : Error)(...)` and the like.
          {
            selector:
              ":matches(NewExpression, ThrowStatement) > :matches(ConditionalExpression, LogicalExpression) > Identifier[name='Error']",
            message: kindMessage,
          },
          ...spawnSyntax,
        ],
      },
    },
    { files: ['src/actions/**/*.ts'], rules: imports(spawn, [throughIndex]) },
    {
      files: ['src/platform/exec.ts'],
      rules: {
        ...imports([core], [throughIndex, notActions]),
        'no-restricted-syntax': [
          'error',
          { selector: "NewExpression[callee.name='Error']", message: kindMessage },
          { selector: "CallExpression[callee.name='Error']", message: kindMessage },
        ],
      },
    },
  ];
}
