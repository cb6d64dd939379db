import { setTimeout as sleep } from 'node:timers/promises';

/** One write a racing worker sent, with what came back. */
export interface WriteAttempt {
  worker_id: string;
  kind: 'status' | 'renew' | 'release';
  /** How the write named its lease: both, the epoch alone (v0.1 + epoch), or nothing (v0.1). */
  fencing: 'lease_and_epoch' | 'epoch_only' | 'lease_only' | 'none';
  /** Whether the worker believed its lease was current when it sent this. */
  deliberatelyStale: boolean;
  task_id: string;
  lease_id?: string;
  epoch?: number;
  sent: number;
  answered: number;
  http: number;
  code?: string;
}

interface KnownLease {
  task_id: string;
  lease_id: string;
  epoch: number;
  status: string;
}

export interface RacingWorkerOptions {
  base: string;
  leaseTtlMs: number;
  deadline: number;
  random: () => number;
  attempts: WriteAttempt[];
  /** Every HTTP status the worker saw, for the 5xx count. */
  statuses: number[];
}

/**
 * A worker that races its own leases: its heartbeats stop and start around the lease TTL, it
 * acts on its leases after random delays (sometimes past their expiry), and it keeps retrying
 * writes under leases it has lost — old lease ids and old epochs — after the task was granted
 * again, to itself or to someone else. Every write is recorded for the checker.
 */
export class RacingWorker {
  workerId = '';
  private token = '';
  private readonly current = new Map<string, KnownLease>();
  private readonly prsOpen = new Map<string, KnownLease>();
  /** Leases this worker held and lost: ammunition for stale writes. */
  private readonly lost: KnownLease[] = [];

  constructor(private readonly options: RacingWorkerOptions) {}

  private async request(method: string, path: string, body?: unknown) {
    const response = await fetch(this.options.base + path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json().catch(() => undefined)) as
      { error?: { code?: string } } | undefined;
    this.options.statuses.push(response.status);
    return { http: response.status, json, code: json?.error?.code };
  }

  async register(name: string): Promise<void> {
    const response = await fetch(`${this.options.base}/v1/workers/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, capacity_points: 6, max_concurrent_tasks: 3 }),
    });
    const body = (await response.json()) as { worker_id: string; token: string };
    this.workerId = body.worker_id;
    this.token = body.token;
  }

  async run(): Promise<void> {
    const { random, leaseTtlMs, deadline } = this.options;
    while (Date.now() < deadline) {
      if (random() < 0.15) {
        // Go quiet for about one lease TTL: leases lapse, or barely survive.
        await sleep(leaseTtlMs * (0.6 + random()));
        continue;
      }
      await this.request('POST', '/v1/workers/heartbeat', { status: 'working' });
      await this.refresh();
      const legit = [...this.current.values()].map((lease) => this.act(lease));
      const stale = this.pickLost(3).map((lease) => this.attackWith(lease));
      const merges = [...this.prsOpen.values()].map((lease) => this.merge(lease));
      await Promise.all([...legit, ...stale, ...merges]);
      await sleep(random() * leaseTtlMs * 0.3);
    }
  }

  /** Reads the worker's leases; those that vanished (and were not finished by it) are lost. */
  private async refresh(): Promise<void> {
    const { http, json } = await this.request('GET', '/v1/work');
    if (http !== 200) return;
    const leases = (json as unknown as { leases: KnownLease[] }).leases;
    const now = new Set(leases.map((lease) => lease.lease_id));
    for (const [id, lease] of this.current) {
      if (!now.has(id)) {
        this.current.delete(id);
        this.lost.push(lease);
      }
    }
    for (const lease of leases) this.current.set(lease.lease_id, { ...lease });
  }

  private pickLost(count: number): KnownLease[] {
    if (this.lost.length > 200) this.lost.splice(0, this.lost.length - 200);
    return Array.from({ length: Math.min(count, this.lost.length) }, () => {
      return this.lost[Math.floor(this.options.random() * this.lost.length)]!;
    });
  }

  private fencingFor(lease: KnownLease): {
    fencing: WriteAttempt['fencing'];
    fields: { lease_id?: string; epoch?: number };
  } {
    const roll = this.options.random();
    if (roll < 0.6)
      return {
        fencing: 'lease_and_epoch',
        fields: { lease_id: lease.lease_id, epoch: lease.epoch },
      };
    if (roll < 0.8) return { fencing: 'epoch_only', fields: { epoch: lease.epoch } };
    if (roll < 0.9) return { fencing: 'lease_only', fields: { lease_id: lease.lease_id } };
    return { fencing: 'none', fields: {} };
  }

  /** A legitimate step on a current lease, after a delay that sometimes outlives the lease. */
  private async act(lease: KnownLease): Promise<void> {
    const { random, leaseTtlMs } = this.options;
    await sleep(random() * leaseTtlMs * 0.9);
    const roll = random();
    if (roll < 0.1) return void (await this.renew(lease, false));
    if (roll < 0.15) return void (await this.release(lease, false));
    const next =
      lease.status === 'leased' || lease.status === 'blocked' ? 'in_progress' : 'pr_opened';
    const result = await this.status(lease, next, false, this.fencingFor(lease));
    if (result === 200) {
      lease.status = next;
      if (next === 'pr_opened') {
        this.current.delete(lease.lease_id);
        this.prsOpen.set(lease.lease_id, lease);
      }
    }
  }

  private async merge(lease: KnownLease): Promise<void> {
    await this.status(lease, 'merged', false, {
      fencing: 'lease_and_epoch',
      fields: { lease_id: lease.lease_id, epoch: lease.epoch },
    });
    this.prsOpen.delete(lease.lease_id);
  }

  /** Every kind of write under a lease this worker no longer holds, all at once. */
  private async attackWith(lease: KnownLease): Promise<void> {
    const statuses = ['in_progress', 'blocked', 'pr_opened', 'merged'];
    const status = statuses[Math.floor(this.options.random() * statuses.length)]!;
    await Promise.all([
      this.status(lease, status, true, {
        fencing: 'lease_and_epoch',
        fields: { lease_id: lease.lease_id, epoch: lease.epoch },
      }),
      this.status(lease, status, true, { fencing: 'epoch_only', fields: { epoch: lease.epoch } }),
      this.status(lease, status, true, {
        fencing: 'lease_only',
        fields: { lease_id: lease.lease_id },
      }),
      this.renew(lease, true),
      this.release(lease, true),
    ]);
  }

  private async status(
    lease: KnownLease,
    status: string,
    deliberatelyStale: boolean,
    fencing: ReturnType<RacingWorker['fencingFor']>,
  ): Promise<number> {
    const sent = Date.now();
    const answer = await this.request('POST', `/v1/tasks/${lease.task_id}/status`, {
      status,
      ...fencing.fields,
      ...(status === 'pr_opened'
        ? { artifact: { pr_url: `https://example.invalid/${lease.task_id}` } }
        : {}),
    });
    this.options.attempts.push({
      worker_id: this.workerId,
      kind: 'status',
      fencing: fencing.fencing,
      deliberatelyStale,
      task_id: lease.task_id,
      ...fencing.fields,
      sent,
      answered: Date.now(),
      http: answer.http,
      code: answer.code,
    });
    return answer.http;
  }

  private async renew(lease: KnownLease, deliberatelyStale: boolean): Promise<number> {
    return this.leaseCall('renew', lease, deliberatelyStale, {});
  }

  private async release(lease: KnownLease, deliberatelyStale: boolean): Promise<number> {
    const http = await this.leaseCall('release', lease, deliberatelyStale, { reason: 'race' });
    if (http === 200) this.current.delete(lease.lease_id);
    return http;
  }

  private async leaseCall(
    kind: 'renew' | 'release',
    lease: KnownLease,
    deliberatelyStale: boolean,
    body: unknown,
  ): Promise<number> {
    const sent = Date.now();
    const answer = await this.request('POST', `/v1/leases/${lease.lease_id}/${kind}`, body);
    this.options.attempts.push({
      worker_id: this.workerId,
      kind,
      fencing: 'lease_only',
      deliberatelyStale,
      task_id: lease.task_id,
      lease_id: lease.lease_id,
      epoch: lease.epoch,
      sent,
      answered: Date.now(),
      http: answer.http,
      code: answer.code,
    });
    return answer.http;
  }
}
