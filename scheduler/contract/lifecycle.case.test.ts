import type { DriverFactory } from '../testing/engine-harness.ts';

export function lifecycleCases(_makeDriver: DriverFactory): void {}
