import { describe } from 'vitest';
import { analyticsCases } from './contract/analytics.case.test.ts';
import { assignmentCases } from './contract/assignment.case.test.ts';
import { auditCases } from './contract/audit.case.test.ts';
import { basicsCases } from './contract/basics.case.test.ts';
import { driverCases } from './contract/driver.case.test.ts';
import { explainCases } from './contract/explain.case.test.ts';
import { invariantCases } from './contract/invariants.case.test.ts';
import { leaseCases } from './contract/leases.case.test.ts';
import { lifecycleCases } from './contract/lifecycle.case.test.ts';
import { workRuleCases } from './contract/work-rules.case.test.ts';
import type { DriverFactory } from './testing/engine-harness.ts';

/**
 * The whole engine test suite, as a contract any storage driver must pass. Each driver's test file
 * is one call to this; a new backend (PostgreSQL, say) passes when this passes.
 */
export function runEngineContract(driverName: string, makeDriver: DriverFactory): void {
  describe(`engine contract on ${driverName}`, () => {
    driverCases(makeDriver);
    basicsCases(makeDriver);
    lifecycleCases(makeDriver);
    leaseCases(makeDriver);
    assignmentCases(makeDriver);
    invariantCases(makeDriver);
    auditCases(makeDriver);
    analyticsCases(makeDriver);
    workRuleCases(makeDriver);
    explainCases(makeDriver);
  });
}
