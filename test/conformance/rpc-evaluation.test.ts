import { describeLaunchpadTestbed } from '../support/launchpad-testbed.js';
import { SUPPLEMENT_FEATURES } from '../support/testbed.js';

// The testbed's RPC provider scenarios that evaluate, against `rampflag serve`'s evaluation port.
describeLaunchpadTestbed(
  'RPC provider against rampflag serve (evaluation)',
  ['evaluation', 'targeting', 'disabled', ...SUPPLEMENT_FEATURES],
  'rpc',
);
