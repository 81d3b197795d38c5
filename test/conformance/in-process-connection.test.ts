import { describeInProcessTestbed } from '../support/in-process-testbed.js';

// The testbed's in-process provider scenarios that connect, lose the connection and follow
// changes, against `rampflag serve` stopped and restarted as launchpad does.
describeInProcessTestbed('in-process provider against rampflag serve (connection)', [
  'connection',
  'events',
  'contextEnrichment',
  'sync-payload',
]);
