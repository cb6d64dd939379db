import type { Readable } from 'svelte/store';
import type { OfferRejectRequest, RepoAnalytics, TaskStatus } from '../../protocol/index.ts';
import type { PoolSnapshot } from '../state/pool-snapshot.ts';
import type { MyWorkItem, WorkAction } from '../state/my-work.ts';

/** Who the plugin acts as right now, for the views to show the right controls. */
export interface SessionInfo {
  mode: 'embedded' | 'remote';
  /** Admin credentials: drag cards, pause workers. */
  admin: boolean;
  /** The role includes working on tasks: "my work" applies. */
  worker: boolean;
  /** The local worker, once registered. */
  workerId: string | null;
  /** Whether the heartbeat is running (the worker receives leases). */
  online: boolean;
}

/**
 * What a view gets from its host — the Obsidian glue, or the browser test harness: the live
 * picture, the session, a ticking clock for countdowns, and one callback per thing a person can
 * do. Callbacks that talk to the pool return promises; a view shows a rejection next to the
 * control that caused it.
 */
export interface PoolViewHost {
  pool: Readable<PoolSnapshot>;
  session: Readable<SessionInfo>;
  /** `Date.now()`, ticking: countdowns and "last seen" follow it. */
  clock: Readable<number>;
  openTask(taskId: string): void;
  moveTask(taskId: string, from: TaskStatus, to: TaskStatus): Promise<void>;
  pauseWorker(workerId: string): Promise<void>;
  resumeWorker(workerId: string): Promise<void>;
  /** Asks the admin for a worker's new trust tier and the reason (a dialog), then sets it. */
  changeTrustTier(workerId: string): void;
  /** Gives a worker of a shared pool a new token, asked first and shown once (a dialog; admin). */
  newWorkerToken(workerId: string): void;
  runWorkAction(item: MyWorkItem, action: WorkAction, prUrl?: string): Promise<void>;
  /** The local worker takes an offered task; its lease then shows with the others. */
  acceptOffer(offerId: string): Promise<void>;
  /** The local worker turns an offer down, saying why. */
  rejectOffer(offerId: string, request: OfferRejectRequest): Promise<void>;
  setOnline(online: boolean): Promise<void>;
  registerWorker(): Promise<void>;
  /** A repo's figures over the last 30 days (admin). */
  repoAnalytics(repo: string): Promise<RepoAnalytics>;
}
