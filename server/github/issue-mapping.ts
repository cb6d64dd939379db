/**
 * GitHub issue → OWP task fields, by the label conventions of the v0.1 wire doc: `estimate:N` or
 * `size:N` → estimate_points (default 1); `priority:critical|high|medium|low` → 100|80|50|20, or
 * `priority:N` (default 50); `skills:x`, one label per skill → required_skills; the first `area:x`
 * → area. The task description starts with the issue's URL, then its body: that first line is
 * how a later import (and the write-back) finds the task again. Pure: no I/O, no platform module.
 */
import type { Task } from '../../protocol/tasks.ts';
import { normalizeSkills } from '../../scheduler/eligibility.ts';

/** The part of a GitHub issue (REST `issues.listForRepo` item) the import reads. */
export interface GithubIssue {
  number: number;
  title: string;
  body?: string | null;
  html_url: string;
  labels: ReadonlyArray<string | { name?: string | null }>;
  /** Present on pull requests, which the issues listing returns too. */
  pull_request?: unknown;
}

/** The task fields an issue decides. Tier, TTL and status are OWP's own and never imported. */
export interface IssueTaskFields {
  title: string;
  description: string;
  estimate_points: number;
  priority: number;
  required_skills: string[];
  area: string | null;
}

export const DEFAULT_ESTIMATE = 1;
export const DEFAULT_PRIORITY = 50;
export const NAMED_PRIORITIES: Readonly<Record<string, number>> = {
  critical: 100,
  high: 80,
  medium: 50,
  low: 20,
};

// Limits of the protocol's TaskCreateRequest, so an odd issue never makes the whole import fail.
const MAX_TITLE = 300;
const MAX_DESCRIPTION = 100_000;
const MAX_SKILL = 64;
const MAX_SKILLS = 50;
const MAX_AREA = 100;
const TRUNCATED = '\n\n…(truncated by the OWP import)';

/** The fields of the task for this issue, and what was odd about its labels. */
export function taskFieldsFromIssue(issue: GithubIssue): {
  fields: IssueTaskFields;
  warnings: string[];
} {
  const warnings: string[] = [];
  let estimate: number | undefined;
  let priority: number | undefined;
  let area: string | undefined;
  const skills: string[] = [];

  for (const name of labelNames(issue)) {
    const match = /^([a-z]+)\s*:\s*(.*)$/i.exec(name.trim());
    if (!match) continue;
    const key = match[1]!.toLowerCase();
    const value = match[2]!.trim();
    if (key === 'estimate' || key === 'size') {
      if (estimate !== undefined) continue;
      estimate = boundedInt(value, 1, 100, name, warnings);
    } else if (key === 'priority') {
      if (priority !== undefined) continue;
      priority =
        NAMED_PRIORITIES[value.toLowerCase()] ?? boundedInt(value, 0, 1000, name, warnings);
    } else if (key === 'skills' || key === 'skill') {
      if (value.length === 0 || value.length > MAX_SKILL) {
        warnings.push(`label "${name}" ignored: a skill is 1–${MAX_SKILL} characters`);
      } else skills.push(value);
    } else if (key === 'area') {
      if (area !== undefined) continue;
      if (value.length === 0 || value.length > MAX_AREA) {
        warnings.push(`label "${name}" ignored: an area is 1–${MAX_AREA} characters`);
      } else area = value;
    }
  }

  const required = normalizeSkills(skills);
  if (required.length > MAX_SKILLS) {
    warnings.push(`only the first ${MAX_SKILLS} of ${required.length} skills were kept`);
  }
  return {
    fields: {
      title: taskTitle(issue),
      description: issueDescription(issue.html_url, issue.body ?? ''),
      estimate_points: estimate ?? DEFAULT_ESTIMATE,
      priority: priority ?? DEFAULT_PRIORITY,
      required_skills: required.slice(0, MAX_SKILLS),
      area: area ?? null,
    },
    warnings,
  };
}

/** The issue's URL on the first line, a blank line, then the body (cut to the protocol's limit). */
export function issueDescription(url: string, body: string): string {
  const text = body.trim() ? `${url}\n\n${body.replace(/\r\n?/g, '\n')}` : url;
  if (text.length <= MAX_DESCRIPTION) return text;
  return cut(text, MAX_DESCRIPTION - TRUNCATED.length) + TRUNCATED;
}

// eslint-disable-next-line no-control-regex -- control characters are what a title may not hold.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * The issue's title as a task may have it: on one line, something to see (else "Issue #N"), cut
 * to the limit. An odd title must not make the issue fail to import.
 */
function taskTitle(issue: Pick<GithubIssue, 'title' | 'number'>): string {
  const title = issue.title.replace(CONTROL, ' ').trim();
  if (!VISIBLE.test(title)) return `Issue #${issue.number}`;
  return title.length > MAX_TITLE ? `${cut(title, MAX_TITLE - 1).trimEnd()}…` : title;
}

/** The first `length` UTF-16 units of `text`, one fewer rather than half of a character. */
function cut(text: string, length: number): string {
  const last = text.charCodeAt(length - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length);
}

/** Label names, whichever shape the API gave them in. */
export function labelNames(issue: Pick<GithubIssue, 'labels'>): string[] {
  return issue.labels
    .map((label) => (typeof label === 'string' ? label : (label.name ?? '')))
    .filter((name) => name.length > 0);
}

/** True for the pull requests the issues listing mixes in. */
export function isPullRequest(issue: Pick<GithubIssue, 'pull_request'>): boolean {
  return issue.pull_request !== undefined && issue.pull_request !== null;
}

/** A GitHub (or GitHub Enterprise) issue's web URL, split into its parts. */
export interface IssueRef {
  url: string;
  owner: string;
  repo: string;
  number: number;
}

const ISSUE_URL = /^https?:\/\/[^/\s]+(?:\/[^/\s]+)*?\/([^/\s]+)\/([^/\s]+)\/issues\/(\d+)$/;

/** The issue a task was imported from: its description's first line, when that is an issue URL. */
export function issueRefOf(description: string): IssueRef | null {
  const firstLine = description.split('\n', 1)[0]!.trim();
  const match = ISSUE_URL.exec(firstLine);
  if (!match) return null;
  return { url: firstLine, owner: match[1]!, repo: match[2]!, number: Number(match[3]) };
}

/**
 * The fields of `current` that differ from what the issue says, as a partial update; empty when
 * the task is up to date. Skills compare as sets, the way the engine stores them.
 */
export function changedFields(
  current: Pick<Task, keyof IssueTaskFields>,
  wanted: IssueTaskFields,
): Partial<IssueTaskFields> {
  const changes: Partial<IssueTaskFields> = {};
  if (current.title !== wanted.title) changes.title = wanted.title;
  if (current.description !== wanted.description) changes.description = wanted.description;
  if (current.estimate_points !== wanted.estimate_points) {
    changes.estimate_points = wanted.estimate_points;
  }
  if (current.priority !== wanted.priority) changes.priority = wanted.priority;
  const have = normalizeSkills(current.required_skills).join('\n');
  if (have !== normalizeSkills(wanted.required_skills).join('\n')) {
    changes.required_skills = wanted.required_skills;
  }
  if ((current.area ?? null) !== wanted.area) changes.area = wanted.area;
  return changes;
}

function boundedInt(
  value: string,
  min: number,
  max: number,
  label: string,
  warnings: string[],
): number | undefined {
  if (!/^\d+$/.test(value)) {
    warnings.push(`label "${label}" ignored: not a whole number`);
    return undefined;
  }
  const number = Number(value);
  if (number < min || number > max) {
    const kept = Math.min(max, Math.max(min, number));
    warnings.push(`label "${label}": ${number} is outside ${min}–${max}; ${kept} used`);
    return kept;
  }
  return number;
}
