/**
 * "Why is this task waiting?" in words, as the dashboard, the Obsidian plugin and `owp admin why`
 * show it: one wording, so an admin reads the same thing in each.
 */
import type { TaskExplanation } from './tasks.ts';

export interface ExplanationText {
  /** The first line: the whole answer, or the lead-in to `reasons`. */
  lead: string;
  /** The online workers by the rule that stops each, a line each: `2 workers lack …: Ann, Bob`. */
  reasons: string[];
}

/**
 * The answer of `GET /v1/admin/tasks/{id}/explanation` for people. While no online worker may
 * take the task, the reasons are listed a line each (`2 workers lack …: Ann, Bob`) rather than run together in `summary`.
 */
export function explanationText(answer: TaskExplanation): ExplanationText {
  const workers = answer.workers;
  if (!workers || workers.eligible_count > 0 || workers.ineligible.length === 0) {
    return { lead: answer.summary, reasons: [] };
  }
  return {
    lead:
      workers.online === 1
        ? 'The one online worker may not take it:'
        : `None of the ${workers.online} online workers may take it:`,
    reasons: workers.ineligible.map((group) => {
      const names = group.examples.map((w) => w.name).join(', ');
      const more = group.count > group.examples.length ? ', …' : '';
      return `${group.message}: ${names}${more}`;
    }),
  };
}
