import type { RepoContract } from '../../protocol/index.ts';

/** One part of a repo's contract, as a note or an offer shows it. */
export interface ContractLine {
  key: keyof RepoContract;
  label: string;
  text: string;
  /** Commands and names read as code; the PR template is a block of Markdown, kept as typed. */
  kind: 'code' | 'block';
}

const PARTS: { key: keyof RepoContract; label: string; kind: ContractLine['kind'] }[] = [
  { key: 'setup', label: 'Setup', kind: 'code' },
  { key: 'test', label: 'Test', kind: 'code' },
  { key: 'lint', label: 'Lint', kind: 'code' },
  { key: 'branch_naming', label: 'Branch naming', kind: 'code' },
  { key: 'pr_template', label: 'PR template', kind: 'block' },
];

/**
 * What a repo asks of a contributor, the parts it gives in a fixed order; blank parts are left
 * out, and a repo without a contract has no lines.
 */
export function contractLines(contract: RepoContract | null | undefined): ContractLine[] {
  if (!contract) return [];
  return PARTS.flatMap(({ key, label, kind }) => {
    const text = contract[key]?.trim() ?? '';
    return text === '' ? [] : [{ key, label, text, kind }];
  });
}
