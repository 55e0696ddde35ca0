// Standalone jest config for the conformance suite only:
//   npx jest -c test/conformance/jest.config.js
// (The repository's jest.config.js runs these files too, as part of `npm test`.)
const path = require('node:path');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.join(__dirname, '..', '..'),
  roots: ['<rootDir>/test/conformance'],
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }] },
  testTimeout: 120000,
  maxWorkers: 1,
};
