import { describeLaunchpadTestbed } from '../support/launchpad-testbed.js';
import { SUPPLEMENT_FEATURES } from '../support/testbed.js';

// The testbed's in-process provider scenarios that evaluate, against `rampflag serve`.
describeLaunchpadTestbed(
  'in-process provider against rampflag serve (evaluation)',
  ['evaluation', 'targeting', 'metadata', 'disabled', 'selector', ...SUPPLEMENT_FEATURES],
  'in-process',
);
