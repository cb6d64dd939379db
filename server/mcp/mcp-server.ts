/**
 * The Model Context Protocol face of a `WorkerSession`: the tools a coding agent calls to work in
 * the pool (register, heartbeat, next_task, report_progress, open_pr, release, my_leases, and for
 * repos that offer work: offers, accept_offer, reject_offer) and a
 * resource with its current leases. Results are JSON text; failures come back as tool errors
 * carrying the OWP error code, so the agent can read why and decide what to do.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { OwpError } from '../../protocol/errors.ts';
import { OFFER_REJECT_REASONS } from '../../protocol/leases.ts';
import { NEW_TOKEN_HINT, type WorkerSession } from './worker-session.ts';

export const LEASES_RESOURCE_URI = 'owp://worker/leases';

/** An MCP server (not yet connected to a transport) exposing the session's tools. */
export function createOwpMcpServer(session: WorkerSession, version: string): McpServer {
  const server = new McpServer(
    { name: 'owp-pool', version },
    {
      instructions:
        'OWP Pool hands out coding tasks as time-bound leases. Call register once, then next_task to get work; report_progress as you go, open_pr when the pull request exists, release what you cannot finish. Some repos offer work instead of leasing it: next_task then lists offers, which you accept_offer or reject_offer. Follow the contract next_task returns (setup, test and lint commands, branch naming, PR template). Heartbeats keep your leases alive while this server runs.',
    },
  );

  const run = (body: () => Promise<unknown>) => runTool(session, body);

  server.registerTool(
    'register',
    {
      title: 'Register as a worker',
      description:
        'Registers this agent as an OWP worker and saves its credentials (as `owp worker register` does). Calling it again returns the worker already saved.',
      inputSchema: {
        name: z.string().min(1).max(120).describe('who you are, e.g. "claude on alice’s laptop"'),
        skills: z.array(z.string().min(1).max(64)).max(50).default([]).describe('skills you hold'),
        capacity_points: z
          .int()
          .min(1)
          .max(100)
          .default(5)
          .describe('estimate points you take at once'),
        max_concurrent_tasks: z
          .int()
          .min(1)
          .max(20)
          .default(1)
          .describe(
            'tasks held at once (default 1: an agent works one task at a time, and a second held meanwhile waits for nobody else)',
          ),
        github_handle: z.string().min(1).max(39).optional(),
        replace: z
          .boolean()
          .optional()
          .describe('overwrite credentials saved for another server or an earlier worker'),
      },
    },
    (args) => run(() => session.register(args)),
  );

  server.registerTool(
    'heartbeat',
    {
      title: 'Heartbeat',
      description:
        'Tells the pool you are alive and renews your leases. This server already sends one on an interval; call it to change your status or leave a note. paused (no new work) stays until you send another status or call next_task.',
      inputSchema: {
        status: z.enum(['idle', 'working', 'paused']).optional(),
        note: z.string().max(1000).optional(),
      },
    },
    (args) => run(() => session.heartbeat(args)),
  );

  server.registerTool(
    'next_task',
    {
      title: 'Get the next task',
      description:
        'Heartbeats, then returns the lease to work on (with the task description and what is known of the repo’s contract), or null when nothing fits you now.',
      inputSchema: {},
    },
    () => run(() => session.nextTask()),
  );

  server.registerTool(
    'report_progress',
    {
      title: 'Report progress',
      description:
        'Moves a task you hold to in_progress or blocked, with a message for maintainers.',
      inputSchema: {
        task_id: z.string().min(1),
        status: z.enum(['in_progress', 'blocked']),
        message: z.string().max(4000).optional(),
      },
    },
    ({ task_id, status, message }) => run(() => session.reportProgress(task_id, status, message)),
  );

  server.registerTool(
    'open_pr',
    {
      title: 'Record the pull request',
      description:
        'Records the pull request for a task you hold; the task then waits for review and stops counting against your lease time.',
      inputSchema: {
        task_id: z.string().min(1),
        pr_url: z.url().max(2048),
        commit_sha: z.string().max(128).optional(),
        message: z.string().max(4000).optional(),
      },
    },
    ({ task_id, pr_url, commit_sha, message }) =>
      run(() => session.openPr(task_id, pr_url, { commit_sha, message })),
  );

  server.registerTool(
    'release',
    {
      title: 'Release a task',
      description: 'Gives a task you hold back to the queue, with the reason.',
      inputSchema: { task_id: z.string().min(1), reason: z.string().max(1000).optional() },
    },
    ({ task_id, reason }) => run(() => session.release(task_id, reason)),
  );

  server.registerTool(
    'offers',
    {
      title: 'My offers',
      description:
        'Work offered to you rather than leased (repos that let workers choose): each with its offer_id, the task, and until when you may answer.',
      inputSchema: {},
    },
    () => run(async () => ({ offers: await session.offers() })),
  );

  server.registerTool(
    'accept_offer',
    {
      title: 'Accept an offer',
      description: "Takes an offered task: you get its lease and the repo's contract to follow.",
      inputSchema: { offer_id: z.string().min(1) },
    },
    ({ offer_id }) => run(() => session.acceptOffer(offer_id)),
  );

  server.registerTool(
    'reject_offer',
    {
      title: 'Reject an offer',
      description:
        'Turns an offer down so someone else can take it; you will not be offered that task again for a while.',
      inputSchema: {
        offer_id: z.string().min(1),
        reason: z.enum(OFFER_REJECT_REASONS),
        message: z.string().max(1000).optional(),
      },
    },
    ({ offer_id, reason, message }) => run(() => session.rejectOffer(offer_id, reason, message)),
  );

  server.registerTool(
    'my_leases',
    {
      title: 'My leases',
      description:
        'The tasks you hold now. Like any heartbeat, it may find a task the pool had ready for you among them.',
      inputSchema: {},
    },
    () => run(async () => ({ leases: await session.leases() })),
  );

  server.registerResource(
    'leases',
    LEASES_RESOURCE_URI,
    {
      title: 'Current leases',
      description: 'The tasks this worker holds now, as JSON.',
      mimeType: 'application/json',
    },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify({ leases: await session.leases() }, null, 2),
        },
      ],
    }),
  );

  return server;
}

/**
 * Runs a tool body: its value as JSON text, or a tool error naming the OWP code. A registered
 * worker refused for its token is told how to take a new one.
 */
async function runTool(
  session: WorkerSession,
  body: () => Promise<unknown>,
): Promise<CallToolResult> {
  try {
    const value = await body();
    return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
  } catch (error) {
    const refused =
      error instanceof OwpError &&
      error.code === 'unauthorized' &&
      session.workerId !== undefined &&
      !error.message.includes(NEW_TOKEN_HINT);
    const text =
      error instanceof OwpError
        ? `${error.message} (${error.code})${refused ? ` ${NEW_TOKEN_HINT}` : ''}`
        : error instanceof Error
          ? error.message
          : String(error);
    return { content: [{ type: 'text', text }], isError: true };
  }
}
