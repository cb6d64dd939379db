import type { DriverFactory } from '../testing/engine-harness.ts';

export function invariantsCases(_makeDriver: DriverFactory): void {}
