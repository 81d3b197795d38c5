import { describeLaunchpadTestbed } from '../support/launchpad-testbed.js';

// The testbed's RPC provider scenarios that connect, lose the connection and follow changes,
// against `rampflag serve`'s evaluation port, stopped and restarted as launchpad does.
describeLaunchpadTestbed(
  'RPC provider against rampflag serve (connection)',
  ['connection', 'events', 'contextEnrichment'],
  'rpc',
);
