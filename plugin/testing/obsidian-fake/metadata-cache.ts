import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Events } from './events.ts';
import { getFrontMatterInfo, readFrontmatter } from './frontmatter.ts';
import type { TFile } from './files.ts';
import type { Vault, VaultIndexer } from './vault.ts';

/**
 * Obsidian's `MetadataCache`, for frontmatter: every Markdown file is indexed when the vault opens,
 * and again after each write — asynchronously, as Obsidian's worker does, so right after a write
 * `getFileCache` still answers the old metadata until `changed` fires. `settled()` (fake-only)
 * waits for that. Links, headings and tags are not parsed.
 */
export class MetadataCache extends Events implements Partial<Loose<obsidian.MetadataCache>> {
  resolvedLinks: Record<string, Record<string, number>> = {};
  unresolvedLinks: Record<string, Record<string, number>> = {};
  private readonly caches = new Map<string, obsidian.CachedMetadata>();
  private readonly indexing = new Set<Promise<void>>();

  constructor(private readonly vault: Vault) {
    super();
    const indexer: VaultIndexer = {
      contentChanged: (file, data) => this.reindexLater(file, data),
      removed: (file) => {
        const previous = this.caches.get(file.path) ?? null;
        this.caches.delete(file.path);
        this.trigger('deleted', file, previous);
      },
      renamed: (file, oldPath) => {
        const cache = this.caches.get(oldPath);
        this.caches.delete(oldPath);
        if (cache) this.caches.set(file.path, cache);
      },
    };
    vault.indexer = indexer;
    for (const file of vault.getMarkdownFiles()) {
      this.caches.set(file.path, metadataOf(readFileSync(join(vault.basePath, file.path), 'utf8')));
    }
  }

  getFileCache(file: TFile): obsidian.CachedMetadata | null {
    return this.caches.get(file.path) ?? null;
  }

  getCache(path: string): obsidian.CachedMetadata | null {
    return this.caches.get(path) ?? null;
  }

  getFirstLinkpathDest(linkpath: string, _sourcePath: string): TFile | null {
    const wanted = linkpath.toLowerCase().replace(/\.md$/, '');
    const files = this.vault.getMarkdownFiles();
    return (
      files.find((f) => f.path.toLowerCase().replace(/\.md$/, '') === wanted) ??
      files.find((f) => f.basename.toLowerCase() === wanted) ??
      null
    );
  }

  fileToLinktext(file: TFile, _sourcePath: string, omitMdExtension = true): string {
    const unique = this.vault.getFiles().filter((f) => f.name === file.name).length === 1;
    const text = unique ? file.name : file.path;
    return omitMdExtension && file.extension === 'md' ? text.slice(0, -3) : text;
  }

  /** Fake-only: resolves when every pending re-index has run and fired `changed`. */
  async settled(): Promise<void> {
    while (this.indexing.size > 0) await Promise.all([...this.indexing]);
  }

  private reindexLater(file: TFile, data: string): void {
    if (file.extension !== 'md') return;
    const done = new Promise<void>((resolve) => {
      setTimeout(() => {
        if (this.vault.getAbstractFileByPath(file.path) === file) {
          const cache = metadataOf(data);
          this.caches.set(file.path, cache);
          this.trigger('changed', file, data, cache);
          this.trigger('resolve', file);
          this.trigger('resolved');
        }
        resolve();
      }, 0);
    });
    this.indexing.add(done);
    void done.then(() => this.indexing.delete(done));
  }
}

function metadataOf(content: string): obsidian.CachedMetadata {
  const info = getFrontMatterInfo(content);
  const frontmatter = readFrontmatter(content);
  if (!info.exists || frontmatter === undefined) return {};
  const endLine = content.slice(0, info.to).split('\n').length - 1;
  return {
    frontmatter: frontmatter as obsidian.FrontMatterCache,
    frontmatterPosition: {
      start: { line: 0, col: 0, offset: 0 },
      end: { line: endLine, col: 3, offset: info.to + 3 },
    },
  };
}
