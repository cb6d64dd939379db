import type { DriverFactory } from '../testing/engine-harness.ts';

export function leasesCases(_makeDriver: DriverFactory): void {}
