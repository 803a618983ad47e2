// Mutation testing: `npm run mutate` (not part of `npm test`).
// Narrow it with `npm run mutate -- --mutate 'src/policy/**/*.ts'`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: {
    configFile: 'vitest.mutate.config.ts',
    // Mutants are run only against the unit tests that import the mutated file.
    related: true,
    pool: 'threads',
  },
  // The rooms whose tests must catch bugs: label parsing, the policy, and path matching.
  mutate: ['src/labels/**/*.ts', 'src/policy/**/*.ts', 'src/routes/path.ts', 'src/routes/match.ts'],
  // No checker: Stryker's TypeScript checker does not support TypeScript 7. A mutant that
  // would not compile is instead killed or survives at run time; vitest does not type-check.
  checkers: [],
  // Stryker rewrites the paths of the tsconfig it copies into the sandbox with TypeScript's
  // JavaScript API, which TypeScript 7 no longer has. Our tsconfig has no `extends` or
  // `references` that would need rewriting, so point that step at no file.
  tsconfigFile: 'no-tsconfig-rewrite',
  // Each test tells Stryker which mutants it reaches, so only those tests run per mutant.
  coverageAnalysis: 'perTest',
  // Other processes share the two cores: one test runner at a time.
  concurrency: 1,
  // The sandbox links the project's node_modules (a real folder or a link to a shared install).
  symlinkNodeModules: true,
  // Copy only what the unit tests need into the sandbox.
  ignorePatterns: [
    'dist', 'data', 'coverage', 'bench/results', 'reports', '.stryker-tmp',
    'test/integration', 'test/e2e', '*.log',
  ],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 85, break: null },
  timeoutMS: 10_000,
};
