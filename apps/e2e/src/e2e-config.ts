/**
 * The test app's only reader of the environment. The services under test get an
 * environment built from scratch (see stack.ts); this is what the harness itself inherits.
 */
export const e2eConfig = Object.freeze({
  /** Passed on to the services so they find `node` and credential helpers. */
  path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  /** Where the demo looks for an existing engine when it cannot start a private one. */
  dockerHost: process.env.DOCKER_HOST,
});
