import type { DriverFactory } from '../testing/engine-harness.ts';

export function assignmentCases(_makeDriver: DriverFactory): void {}
