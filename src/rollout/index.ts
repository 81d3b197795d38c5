/**
 * `rampflag/rollout`: guarded rollouts. A plan moves one flag through explicit steps, each gated on
 * per-variant guardrails with an anytime-valid test; the controller advances on evidence, holds
 * when data is missing, rolls back to the explicit safe variant on harm, and audits everything.
 * @packageDocumentation
 */
export { parsePlan, PlanError, DEFAULT_TAU } from './plan.js';
export type { Guardrail, PlanIssue, RolloutPlan, RolloutStep, SrmAction } from './plan.js';
export { checkPlanAgainstFlag, targetingAt, WEIGHT_TOTAL } from './flag-shape.js';
export { decide } from './decide.js';
export type {
  Decision,
  Evidence,
  GuardrailCounts,
  GuardrailVerdict,
  RolloutState,
  RolloutStatus,
  StepEvidence,
} from './decide.js';
export { RolloutController, RolloutConflictError } from './controller.js';
export type { RolloutControllerOptions, RolloutOutcome } from './controller.js';
export { readRollout, withRollout, ROLLOUT_KEYS } from './state.js';
export type { StoredRollout } from './state.js';
export { evidenceFromTotals, functionReader, inProcessReader, queryFor } from './readers.js';
export type {
  EvidenceQuery,
  MetricReader,
  OutcomeTotals,
  TotalsSource,
  WindowEvidence,
} from './readers.js';
export { prometheusReader, PROMETHEUS_SERIES } from './prometheus.js';
export type { PrometheusReaderOptions } from './prometheus.js';
export { adminWriter, fileWriter, memoryWriter, updateFlag } from './writers.js';
export type { AdminWriterOptions, FlagUpdate, FlagWriter, UpdateFlagOptions } from './writers.js';
export {
  AuditLog,
  AuditLogError,
  isAuditLogError,
  verifyAudit,
  hashLine,
  GENESIS,
} from './audit.js';
export type {
  AuditAction,
  AuditEntry,
  AuditLogOptions,
  AuditRecord,
  AuditVerification,
} from './audit.js';
export { parseDuration, formatDuration } from './duration.js';
export {
  simulateScenario,
  simulateRollouts,
  simulateRollout,
  formatSimulation,
  describeSimulation,
  resolveSimulation,
} from './simulate.js';
export type { SimulationOptions, SimulationSummary, ResolvedSimulation } from './simulate.js';
