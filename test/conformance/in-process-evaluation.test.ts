import { describeInProcessTestbed } from '../support/in-process-testbed.js';
import { SUPPLEMENT_FEATURES } from '../support/testbed.js';

// The testbed's in-process provider scenarios that evaluate, against `rampflag serve`.
describeInProcessTestbed('in-process provider against rampflag serve (evaluation)', [
  'evaluation',
  'targeting',
  'metadata',
  'disabled',
  'selector',
  ...SUPPLEMENT_FEATURES,
]);
