import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import type { Vault } from './vault.ts';

/** A file or folder of the vault, by vault-relative path (the root folder is `/`). */
export abstract class TAbstractFile implements Partial<Loose<obsidian.TAbstractFile>> {
  path = '';
  name = '';
  parent: TFolder | null = null;

  constructor(
    readonly vault: Vault,
    path: string,
  ) {
    this.setPath(path);
  }

  /** Fake-internal: what a rename changes. */
  setPath(path: string): void {
    this.path = path;
    this.name = path === '/' ? '' : path.slice(path.lastIndexOf('/') + 1);
  }
}

export class TFile extends TAbstractFile implements Partial<Loose<obsidian.TFile>> {
  stat: obsidian.FileStats = { ctime: 0, mtime: 0, size: 0 };
  // `declare`: set by `setPath` from the base constructor; an initializer would run after it.
  declare basename: string;
  declare extension: string;

  override setPath(path: string): void {
    super.setPath(path);
    const dot = this.name.lastIndexOf('.');
    this.basename = dot > 0 ? this.name.slice(0, dot) : this.name;
    this.extension = dot > 0 ? this.name.slice(dot + 1) : '';
  }
}

export class TFolder extends TAbstractFile implements Partial<Loose<obsidian.TFolder>> {
  children: TAbstractFile[] = [];

  isRoot(): boolean {
    return this.path === '/';
  }
}
