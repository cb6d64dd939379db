import type { Clock } from '../clock.ts';

/** A clock tests move by hand. Starts at 2026-01-17T12:00:00Z. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 17, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }
}
