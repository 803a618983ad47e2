import { defineConfig } from 'vitest/config';

// The suite Stryker runs for every mutant: unit tests only. They are pure, need no Docker
// and no browser, and take seconds, so a mutation run fits on a busy two-core machine.
// The integration and end-to-end tests still guard the same rooms in `npm test`.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.stryker-tmp/**'],
    testTimeout: 60_000,
  },
});
