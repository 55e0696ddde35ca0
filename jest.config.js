/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }] },
  testTimeout: 120000,
  // Tests start worker threads and child processes: one file at a time keeps
  // them from starving each other on a 2-core machine.
  maxWorkers: 1,
  // A failed test can leave its ports open and keep jest's process alive;
  // the summary must still come (liveness itself is tested in child processes).
  forceExit: true,
};
