import type * as obsidian from 'obsidian';
import { parse, stringify } from 'yaml';

/**
 * Obsidian's frontmatter block: `---` on the very first line, up to the next line that is `---`.
 * `frontmatter` is the text between (with its last newline); `contentStart` is where the body
 * begins, after the closing line.
 */
export function getFrontMatterInfo(content: string): obsidian.FrontMatterInfo {
  const none = { exists: false, frontmatter: '', from: 0, to: 0, contentStart: 0 };
  const opening = /^---[ \t]*\r?\n/.exec(content);
  if (!opening) return none;
  const from = opening[0].length;
  const closing = /^---[ \t]*(\r?\n|$)/m;
  for (let at = from; at <= content.length;) {
    const match = closing.exec(content.slice(at));
    if (!match) return none;
    const start = at + match.index;
    // `^` with /m also matches after a newline inside the slice: only whole lines count.
    if (start === from || content[start - 1] === '\n') {
      return {
        exists: true,
        frontmatter: content.slice(from, start),
        from,
        to: start,
        contentStart: start + match[0].length,
      };
    }
    at = start + 1;
  }
  return none;
}

/** YAML as Obsidian reads properties: YAML 1.2, so dates stay text and `yes` is a string. */
export function parseYaml(yaml: string): unknown {
  return parse(yaml);
}

/** YAML as Obsidian writes properties: block lists, empty values as `key:`. */
export function stringifyYaml(value: unknown): string {
  return stringify(value, { nullStr: '', lineWidth: 0 });
}

/** The parsed frontmatter of a note, or undefined when it has none or it is not valid YAML. */
export function readFrontmatter(content: string): Record<string, unknown> | undefined {
  const info = getFrontMatterInfo(content);
  if (!info.exists) return undefined;
  try {
    const data = parseYaml(info.frontmatter);
    if (data === null || data === undefined) return {};
    return typeof data === 'object' && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
