import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** The calls a crash-test client makes. `create_attempt` is written before a task creation is sent. */
export type CallOp =
  | 'register'
  | 'heartbeat'
  | 'work'
  | 'status'
  | 'release'
  | 'upsert_repo'
  | 'create_attempt'
  | 'create'
  | 'state';

/**
 * One line of a client's JSONL history: a call the server answered (any HTTP status), with what
 * was sent and what came back. Only answered calls are written — a call cut off by a kill left no
 * acknowledgement to check. `first_sent` is the first attempt: an earlier attempt cut off by a kill
 * may have been applied, so the write may be as old as that.
 */
export interface CallRecord {
  actor: string;
  worker_id?: string;
  op: CallOp;
  method: string;
  path: string;
  body?: unknown;
  idempotency_key?: string;
  first_sent: number;
  acked: number;
  attempts: number;
  /** 0 for `create_attempt`, which records only an intent. */
  http: number;
  response?: unknown;
}

/** Appends a record synchronously: what is written survives this process being killed. */
export function appendRecord(file: string, record: CallRecord): void {
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** Reads a history; a torn last line (the writer was killed mid-append) is skipped. */
export function readHistory(file: string): CallRecord[] {
  if (!existsSync(file)) return [];
  const records: CallRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as CallRecord);
    } catch {
      // Torn final line.
    }
  }
  return records;
}
