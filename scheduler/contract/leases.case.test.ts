import type { DriverFactory } from '../testing/engine-harness.ts';

export function leaseCases(_makeDriver: DriverFactory): void {}
