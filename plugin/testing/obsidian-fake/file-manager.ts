import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import { getFrontMatterInfo, parseYaml, stringifyYaml } from './frontmatter.ts';
import type { TAbstractFile, TFile, TFolder } from './files.ts';
import type { Vault } from './vault.ts';

/**
 * Obsidian's `FileManager`. `processFrontMatter` parses the frontmatter, lets `fn` mutate it, and
 * writes it back re-serialised (as Obsidian does: the whole block is rewritten, so flow lists
 * become block lists), keeping the body byte for byte. Invalid YAML throws, and nothing is written.
 * `renameFile` moves without updating links (the fake has no link index).
 */
export class FileManager implements Partial<Loose<obsidian.FileManager>> {
  constructor(private readonly vault: Vault) {}

  async processFrontMatter(
    file: TFile,
    fn: (frontmatter: Record<string, unknown>) => void,
    options?: obsidian.DataWriteOptions,
  ): Promise<void> {
    await this.vault.process(
      file,
      (content) => {
        const info = getFrontMatterInfo(content);
        const parsed: unknown = info.exists ? parseYaml(info.frontmatter) : null;
        const frontmatter = (parsed ?? {}) as Record<string, unknown>;
        fn(frontmatter);
        if (!info.exists && Object.keys(frontmatter).length === 0) return content;
        const yaml = Object.keys(frontmatter).length === 0 ? '' : stringifyYaml(frontmatter);
        return `---\n${yaml}---\n${content.slice(info.contentStart)}`;
      },
      options,
    );
  }

  renameFile(file: TAbstractFile, newPath: string): Promise<void> {
    return this.vault.rename(file, newPath);
  }

  trashFile(file: TAbstractFile): Promise<void> {
    return this.vault.trash(file, true);
  }

  getNewFileParent(_sourcePath: string, _newFilePath?: string): TFolder {
    return this.vault.getRoot();
  }

  generateMarkdownLink(file: TFile, _sourcePath: string, subpath = '', alias = ''): string {
    return `[[${file.basename}${subpath}${alias ? `|${alias}` : ''}]]`;
  }

  async getAvailablePathForAttachment(filename: string, _sourcePath?: string): Promise<string> {
    return filename;
  }
}
