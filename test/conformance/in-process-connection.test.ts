import { describeLaunchpadTestbed } from '../support/launchpad-testbed.js';

// The testbed's in-process provider scenarios that connect, lose the connection and follow
// changes, against `rampflag serve` stopped and restarted as launchpad does.
describeLaunchpadTestbed(
  'in-process provider against rampflag serve (connection)',
  ['connection', 'events', 'contextEnrichment', 'sync-payload'],
  'in-process',
);
