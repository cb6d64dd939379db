import type { DriverFactory } from '../testing/engine-harness.ts';

export function invariantCases(_makeDriver: DriverFactory): void {}
