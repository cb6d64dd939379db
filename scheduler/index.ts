/** The OWP scheduling engine: pure, synchronous, storage behind one port, time injected. */
export {
  Scheduler,
  type SchedulerOptions,
  type SweepResult,
  type EventListener,
} from './engine.ts';
export { type Clock, systemClock } from './clock.ts';
export { DEFAULT_CONFIG, type EngineConfig } from './context.ts';
export { type IdSource, randomIds, sequentialIds, hashToken } from './ids.ts';
export {
  type SqlDriver,
  type SqlParams,
  type SqlValue,
  createTransactionControl,
} from './storage-port.ts';
export { LIFECYCLE, allowedTargets, edgeFor } from './lifecycle.ts';
export {
  whyIneligible,
  compareTasks,
  compareWorkers,
  reputationOf,
  MAX_TASK_TIER,
} from './eligibility.ts';
