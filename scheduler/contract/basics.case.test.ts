import type { DriverFactory } from '../testing/engine-harness.ts';

export function basicsCases(_makeDriver: DriverFactory): void {}
