/**
 * A Markdown note's text as Obsidian reads and writes it: a frontmatter block (`---` on the very
 * first line, up to the next line that is `---`), then the body. Properties are YAML 1.2, so dates
 * and `yes` stay text; written with block lists and empty values as `key:`. Editing properties
 * goes through a YAML document, so the user's other properties, their order and their comments
 * survive — the on-disk counterpart of Obsidian's `processFrontMatter`.
 */
import { isMap, parse, parseDocument, stringify } from 'yaml';
import { readProperties, type NoteSnapshot } from '../../plugin/sync/note-store.ts';

const WRITE_OPTIONS = { nullStr: '', lineWidth: 0 } as const;

/** Where the frontmatter block is: its YAML text, and where the body starts. */
export function frontmatterBlock(
  content: string,
): { yaml: string; from: number; contentStart: number } | null {
  const opening = /^---[ \t]*\r?\n/.exec(content);
  if (!opening) return null;
  const from = opening[0].length;
  const closing = /^---[ \t]*(?:\r?\n|$)/gm;
  closing.lastIndex = from;
  for (let match = closing.exec(content); match; match = closing.exec(content)) {
    // With /m, `^` also matches inside a line of the slice before: only whole lines close it.
    if (match.index === from || content[match.index - 1] === '\n') {
      return {
        yaml: content.slice(from, match.index),
        from,
        contentStart: match.index + match[0].length,
      };
    }
  }
  return null;
}

/**
 * The note's properties and body. Broken YAML reads as no properties, as in Obsidian, with the
 * reason (`frontmatterError`) and the `owp_id` of its own plain line (`readProperties`).
 */
export function parseNoteText(
  content: string,
): Pick<NoteSnapshot, 'frontmatter' | 'frontmatterError' | 'body'> {
  const block = frontmatterBlock(content);
  if (!block) return { frontmatter: {}, body: content };
  return { ...readProperties(block.yaml, parse), body: content.slice(block.contentStart) };
}

/** A new note's text. */
export function noteText(frontmatter: Record<string, unknown>, body: string): string {
  const defined = Object.fromEntries(
    Object.entries(frontmatter).filter(([, value]) => value !== undefined),
  );
  if (Object.keys(defined).length === 0) return body;
  return `---\n${stringify(defined, WRITE_OPTIONS)}---\n${body}`;
}

/**
 * The text with only the given properties changed (`undefined` deletes one). Throws on a
 * frontmatter block that is not valid YAML, rather than overwrite what the user wrote.
 */
export function withPropertyChanges(content: string, changes: Record<string, unknown>): string {
  const block = frontmatterBlock(content);
  if (!block) {
    return noteText(changes, content);
  }
  const document = parseDocument(block.yaml);
  if (document.errors.length > 0) {
    throw new Error(`the note's properties are not valid YAML: ${document.errors[0]!.message}`);
  }
  if (document.contents !== null && !isMap(document.contents)) {
    throw new Error("the note's properties are not a map of keys to values");
  }
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) document.delete(key);
    else document.set(key, document.createNode(value));
  }
  const yaml =
    isMap(document.contents) && document.contents.items.length > 0
      ? document.toString(WRITE_OPTIONS)
      : '';
  return `---\n${yaml}---\n${content.slice(block.contentStart)}`;
}

/** The text with its body replaced and its frontmatter block kept byte for byte. */
export function withBody(content: string, body: string): string {
  const block = frontmatterBlock(content);
  return block ? content.slice(0, block.contentStart) + body : body;
}
