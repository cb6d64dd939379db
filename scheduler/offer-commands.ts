import type { z } from 'zod';
import {
  OwpError,
  type OfferRejectRequest,
  type WorkLease,
  type WorkOffer,
} from '../protocol/index.ts';
import { leaseTtlOf } from './assignment.ts';
import { toIso } from './clock.ts';
import type { EngineContext } from './context.ts';
import { edgeFor } from './lifecycle.ts';
import { TASK_COLUMNS, TASK_FROM, type TaskRow, contractOf, splitSkills } from './rows.ts';
import { findRepo, findTask, requireWorker } from './task-store.ts';
import { applyTransition } from './transitions.ts';
import { toWorkLease } from './worker-commands.ts';

/*
 * Offers (repos with `assignment: "offer"`): instead of a lease, assignment reserves the task for
 * one worker (status `offered`, holding the worker's room, the area and a place in the review
 * budget) until the worker accepts — and gets the lease — or rejects it, or the offer expires.
 * A rejected or expired offer frees the task, and the same worker is not offered it again for
 * `offerCooldownMs`. The moves are lifecycle edges like any other (`offer`, `accept`, `decline`,
 * `offer_expire`), so they are fenced, counted in the worker's stats and logged the same way.
 */

interface OfferRow {
  id: string;
  task_id: string;
  worker_id: string;
  offered_at: number;
  expires_at: number;
  status: string;
}

/** The worker's open offers, in the order they were made. */
export function listOffers(ctx: EngineContext, workerId: string): WorkOffer[] {
  const now = ctx.clock.now();
  return ctx.driver
    .all<TaskRow & { offer_id: string; offered_at: number; offer_expires_at: number }>(
      `SELECT ${TASK_COLUMNS}, o.id AS offer_id, o.offered_at AS offered_at,
              o.expires_at AS offer_expires_at
         FROM ${TASK_FROM} JOIN offers o ON o.task_id = t.id
        WHERE o.worker_id = $worker AND o.status = 'open' AND o.expires_at > $now
        ORDER BY o.offered_at, o.rowid`,
      { worker: workerId, now },
    )
    .map((row) => ({
      offer_id: row.offer_id,
      task_id: row.id,
      repo: row.repo,
      title: row.title,
      description: row.description,
      estimate_points: row.estimate_points,
      priority: row.priority,
      area: row.area,
      tier: row.tier,
      required_skills: splitSkills(row.skills),
      offered_at: toIso(row.offered_at),
      expires_at: toIso(row.offer_expires_at),
      contract: contractOf(findRepo(ctx.driver, row.repo) ?? { contract: null }),
    }));
}

/** The worker takes the offered task: it gets a lease, exactly as if it had been granted. */
export function acceptOffer(ctx: EngineContext, workerId: string, offerId: string): WorkLease {
  const { task } = requireOpenOffer(ctx, workerId, offerId);
  const repo = findRepo(ctx.driver, task.repo);
  const leased = applyTransition(ctx, task, edgeFor(task.status, 'worker', { cause: 'accept' }), {
    epoch: task.lease_epoch,
    worker: workerId,
    grant: { workerId, leaseId: ctx.ids.leaseId(), ttlMs: leaseTtlOf(ctx, task, repo) },
  });
  return toWorkLease(leased, contractOf(repo ?? { contract: null }));
}

/** The worker turns the offer down, saying why; the task goes back to the queue. */
export function rejectOffer(
  ctx: EngineContext,
  workerId: string,
  offerId: string,
  req: z.output<typeof OfferRejectRequest>,
): { ok: true; task_id: string } {
  const { task } = requireOpenOffer(ctx, workerId, offerId);
  applyTransition(ctx, task, edgeFor(task.status, 'worker', { cause: 'decline' }), {
    epoch: task.lease_epoch,
    worker: workerId,
    message: req.message ?? null,
    decline: { reason: req.reason },
  });
  return { ok: true as const, task_id: task.id };
}

/** Phase one of the offer sweep: open offers past their expiry, oldest first. */
export function findExpiredOffers(ctx: EngineContext, limit = 500): string[] {
  return ctx.driver
    .all<{ id: string }>(
      `SELECT id FROM offers WHERE status = 'open' AND expires_at <= $now
        ORDER BY expires_at, id LIMIT $limit`,
      { now: ctx.clock.now(), limit },
    )
    .map((row) => row.id);
}

/**
 * Phase two, for one offer: frees the task if the offer is, inside this transaction, still open
 * and still expired (an accept or a reject in between wins). Returns whether it expired.
 */
export function expireOffer(ctx: EngineContext, offerId: string): boolean {
  const offer = findOffer(ctx, offerId);
  if (!offer || offer.status !== 'open' || offer.expires_at > ctx.clock.now()) return false;
  const task = findTask(ctx.driver, offer.task_id);
  if (!task || task.status !== 'offered' || task.assignee !== offer.worker_id) return false;
  applyTransition(ctx, task, edgeFor(task.status, 'system', { cause: 'offer_expire' }), {
    epoch: task.lease_epoch,
    message: 'offer expired',
  });
  return true;
}

function findOffer(ctx: EngineContext, offerId: string): OfferRow | undefined {
  return ctx.driver.get<OfferRow>(
    'SELECT id, task_id, worker_id, offered_at, expires_at, status FROM offers WHERE id = $id',
    { id: offerId },
  );
}

/** The offer and its task, if the offer is this worker's and still open; a clear error if not. */
function requireOpenOffer(ctx: EngineContext, workerId: string, offerId: string) {
  requireWorker(ctx.driver, workerId);
  const offer = findOffer(ctx, offerId);
  if (!offer) {
    throw new OwpError('offer_not_found', `No offer ${offerId}.`, { offer_id: offerId });
  }
  if (offer.worker_id !== workerId) {
    throw new OwpError('not_offer_holder', `Offer ${offerId} was made to another worker.`, {
      offer_id: offerId,
    });
  }
  const expired = offer.status === 'expired' || offer.expires_at <= ctx.clock.now();
  if (offer.status !== 'open' || expired) {
    const state = expired ? 'expired' : `already ${offer.status}`;
    throw new OwpError(
      'offer_closed',
      `Offer ${offerId} is ${state}; it can no longer be answered.`,
      {
        offer_id: offerId,
        status: expired ? 'expired' : offer.status,
        ...(expired ? { expired_at: toIso(offer.expires_at) } : {}),
      },
    );
  }
  const task = findTask(ctx.driver, offer.task_id);
  if (!task || task.status !== 'offered' || task.assignee !== workerId) {
    throw new OwpError('offer_closed', `Offer ${offerId} no longer holds its task.`, {
      offer_id: offerId,
      status: 'withdrawn',
    });
  }
  return { offer, task };
}
