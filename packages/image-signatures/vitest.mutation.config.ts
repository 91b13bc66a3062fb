import { fileURLToPath } from 'node:url';
import { sharedVitestConfig } from '../../vitest.shared.ts';

// For `pnpm test:mutation`: Stryker runs from the repository root, so the root is set here;
// the integration suites stay out (see stryker.shared.mjs).
export default sharedVitestConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  exclude: ['**/node_modules/**', '**/*.integration.test.ts'],
  reporters: ['dot'],
});
