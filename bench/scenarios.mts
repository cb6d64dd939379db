/**
 * The scenarios `npm run bench` runs. Groups select them from the command line (`--only=scale`);
 * so do single names (`--only=w100-t1k`).
 */
import { DENSE, type SkillMix } from './load/workload.mts';

export interface LoadScenario {
  name: string;
  label: string;
  group: 'baseline' | 'scale' | 'sparse';
  target: 'owp' | 'bare';
  mode: 'cycle' | 'heartbeat';
  workers: number;
  /** Ready tasks the admin keeps in the queue. */
  ready: number;
  mix: SkillMix;
  /** In the quick smoke too. */
  quick: boolean;
}

const SPARSE: SkillMix = { rareTaskFraction: 0.9, rareWorkerFraction: 0.01 };

const cycle = (workers: number, ready: number, quick = false): LoadScenario => ({
  name: `w${short(workers)}-t${short(ready)}`,
  label: `${workers.toLocaleString('en')} workers, ${short(ready)} ready`,
  group: 'scale',
  target: 'owp',
  mode: 'cycle',
  workers,
  ready,
  mix: DENSE,
  quick,
});

function short(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}

export const LOAD_SCENARIOS: LoadScenario[] = [
  {
    name: 'bare-heartbeat',
    label: 'bare Fastify route, 100 workers',
    group: 'baseline',
    target: 'bare',
    mode: 'heartbeat',
    workers: 100,
    ready: 0,
    mix: DENSE,
    quick: true,
  },
  {
    name: 'owp-heartbeat',
    label: 'OWP heartbeat only, 100 workers, 1k ready',
    group: 'baseline',
    target: 'owp',
    mode: 'heartbeat',
    workers: 100,
    ready: 1000,
    mix: DENSE,
    quick: true,
  },
  cycle(100, 1000, true),
  cycle(100, 10_000),
  cycle(100, 100_000),
  cycle(1000, 1000),
  cycle(1000, 10_000),
  cycle(1000, 100_000),
  cycle(10_000, 1000),
  cycle(10_000, 10_000),
  cycle(10_000, 100_000),
  {
    name: 'w1k-t100k-sparse',
    label: '1,000 workers, 100k ready, skill-sparse',
    group: 'sparse',
    target: 'owp',
    mode: 'cycle',
    workers: 1000,
    ready: 100_000,
    mix: SPARSE,
    quick: false,
  },
];

export const GROUPS = ['baseline', 'scale', 'sparse', 'sse', 'embedded'] as const;
