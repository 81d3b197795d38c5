import { createRequire } from 'node:module';

declare const __RAMPFLAG_VERSION__: string | undefined;

/** The package's version: set by the build, read from package.json when run from the sources. */
export const VERSION: string =
  typeof __RAMPFLAG_VERSION__ === 'string'
    ? __RAMPFLAG_VERSION__
    : (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
