import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import type { App } from './app.ts';
import { Component } from './component.ts';
import { domDocument } from './dom.ts';
import { Events } from './events.ts';
import type { TFile } from './files.ts';

function div(parent: HTMLElement | null, cls: string): HTMLElement {
  const el = (parent?.ownerDocument ?? domDocument()).createElement('div');
  el.className = cls;
  parent?.appendChild(el);
  return el;
}

/** Obsidian's `View`: a `containerEl` holding a header and the view's content. */
export abstract class View extends Component implements Partial<Loose<obsidian.View>> {
  app: App;
  icon = '';
  navigation = false;
  leaf: WorkspaceLeaf;
  containerEl: HTMLElement;
  scope = null;

  constructor(leaf: WorkspaceLeaf) {
    super();
    this.leaf = leaf;
    this.app = leaf.app;
    this.containerEl = div(null, 'workspace-leaf-content');
    div(this.containerEl, 'view-header');
    div(this.containerEl, 'view-content');
  }

  protected async onOpen(): Promise<void> {}
  protected async onClose(): Promise<void> {}
  abstract getViewType(): string;

  getState(): Record<string, unknown> {
    return {};
  }

  async setState(_state: unknown, _result: obsidian.ViewStateResult): Promise<void> {}

  getEphemeralState(): Record<string, unknown> {
    return {};
  }

  setEphemeralState(_state: unknown): void {}

  getIcon(): string {
    return this.icon;
  }

  onResize(): void {}

  getDisplayText(): string {
    return this.getViewType();
  }

  /** Fake-internal: what the leaf does to show the view. */
  async open(): Promise<void> {
    this.load();
    await this.onOpen();
  }

  /** Fake-internal: what the leaf does to take the view away. */
  async close(): Promise<void> {
    await this.onClose();
    this.unload();
    this.containerEl.remove();
  }
}

/** Obsidian's `ItemView`: `contentEl` is the content part of `containerEl` (its second child). */
export abstract class ItemView extends View implements Partial<Loose<obsidian.ItemView>> {
  contentEl: HTMLElement;

  constructor(leaf: WorkspaceLeaf) {
    super(leaf);
    this.contentEl = this.containerEl.children[1] as HTMLElement;
  }

  addAction(icon: string, title: string, callback: (evt: MouseEvent) => unknown): HTMLElement {
    const action = div(this.containerEl.children[0] as HTMLElement, 'clickable-icon view-action');
    action.setAttribute('aria-label', title);
    action.setAttribute('data-icon', icon);
    action.addEventListener('click', (evt) => void callback(evt as MouseEvent));
    return action;
  }
}

/** A leaf with nothing open. */
class EmptyView extends ItemView {
  getViewType(): string {
    return 'empty';
  }
}

/** The Markdown editor, reduced to what plugins ask of it: the open file. */
export class MarkdownView extends ItemView {
  file: TFile | null = null;

  getViewType(): string {
    return 'markdown';
  }

  override getDisplayText(): string {
    return this.file?.basename ?? '';
  }

  override getState(): Record<string, unknown> {
    return { file: this.file?.path ?? null };
  }
}

/** Obsidian's `WorkspaceLeaf`: shows one view at a time, made from the registered creators. */
export class WorkspaceLeaf extends Events implements Partial<Loose<obsidian.WorkspaceLeaf>> {
  view: View;
  pinned = false;

  constructor(
    readonly app: App,
    /** Fake-only: which side the leaf is in. */
    readonly side: 'root' | 'left' | 'right',
  ) {
    super();
    this.view = new EmptyView(this);
  }

  getViewState(): obsidian.ViewState {
    return { type: this.view.getViewType(), state: this.view.getState() };
  }

  async setViewState(viewState: obsidian.ViewState, _eState?: unknown): Promise<void> {
    const creator = this.app.viewRegistry.get(viewState.type);
    if (!creator) throw new Error(`No view registered for type "${viewState.type}"`);
    await this.open(creator(this as never) as unknown as View);
    if (viewState.state) await this.view.setState(viewState.state, { history: false });
    if (viewState.active) this.app.workspace.setActiveLeaf(this);
  }

  async open(view: View): Promise<View> {
    await this.view.close();
    this.view = view;
    this.app.workspace.containerEl.appendChild(this.view.containerEl);
    await this.view.open();
    this.app.workspace.trigger('layout-change');
    return view;
  }

  async openFile(file: TFile, _openState?: obsidian.OpenViewState): Promise<void> {
    const view = new MarkdownView(this);
    view.file = file;
    await this.open(view);
    this.app.workspace.setActiveLeaf(this);
    this.app.workspace.trigger('file-open', file);
  }

  get isDeferred(): boolean {
    return false;
  }

  async loadIfDeferred(): Promise<void> {}

  getDisplayText(): string {
    return this.view.getDisplayText();
  }

  getIcon(): string {
    return this.view.getIcon();
  }

  setPinned(pinned: boolean): void {
    this.pinned = pinned;
    this.trigger('pinned-change', pinned);
  }

  togglePinned(): void {
    this.setPinned(!this.pinned);
  }

  onResize(): void {
    this.view.onResize();
  }

  detach(): void {
    void this.view.close();
    this.app.workspace.removeLeaf(this);
  }
}

/**
 * Obsidian's `Workspace`, flattened: a list of leaves, each in the root or a side; the active leaf;
 * `onLayoutReady` callbacks held until the fake-only `setLayoutReady()` (Obsidian calls them once the
 * workspace has loaded, at once if it already has).
 */
export class Workspace extends Events implements Partial<Loose<obsidian.Workspace>> {
  containerEl: HTMLElement;
  layoutReady = false;
  activeLeaf: WorkspaceLeaf | null = null;
  private readonly leaves: WorkspaceLeaf[] = [];
  private readonly readyCallbacks: (() => unknown)[] = [];

  constructor(private readonly app: App) {
    super();
    this.containerEl = div(null, 'workspace');
    domDocument().body.appendChild(this.containerEl);
  }

  onLayoutReady(callback: () => unknown): void {
    if (this.layoutReady) void callback();
    else this.readyCallbacks.push(callback);
  }

  /** Fake-only: the workspace has loaded; runs the `onLayoutReady` callbacks and awaits them. */
  async setLayoutReady(): Promise<void> {
    this.layoutReady = true;
    for (const callback of this.readyCallbacks.splice(0)) await callback();
    this.trigger('layout-ready');
  }

  getLeavesOfType(viewType: string): WorkspaceLeaf[] {
    return this.leaves.filter((leaf) => leaf.view.getViewType() === viewType);
  }

  getRightLeaf(_split: boolean): WorkspaceLeaf | null {
    return this.addLeaf('right');
  }

  getLeftLeaf(_split: boolean): WorkspaceLeaf | null {
    return this.addLeaf('left');
  }

  getLeaf(_newLeaf?: unknown): WorkspaceLeaf {
    if (!_newLeaf && this.activeLeaf?.side === 'root') return this.activeLeaf;
    return this.addLeaf('root');
  }

  getUnpinnedLeaf(): WorkspaceLeaf {
    return this.getLeaf(false);
  }

  getMostRecentLeaf(): WorkspaceLeaf | null {
    return this.activeLeaf;
  }

  async ensureSideLeaf(
    type: string,
    side: 'left' | 'right',
    options: { active?: boolean; state?: Record<string, unknown>; reveal?: boolean } = {},
  ): Promise<WorkspaceLeaf> {
    const leaf = this.getLeavesOfType(type)[0] ?? this.addLeaf(side);
    if (leaf.view.getViewType() !== type) {
      await leaf.setViewState({ type, state: options.state, active: options.active });
    }
    if (options.reveal !== false) await this.revealLeaf(leaf);
    return leaf;
  }

  async revealLeaf(leaf: WorkspaceLeaf): Promise<void> {
    leaf.view.containerEl.classList.add('is-revealed');
  }

  setActiveLeaf(leaf: WorkspaceLeaf | null, _params?: unknown): void {
    this.activeLeaf = leaf;
    this.trigger('active-leaf-change', leaf);
  }

  getActiveFile(): TFile | null {
    const view = this.activeLeaf?.view;
    return view instanceof MarkdownView ? view.file : null;
  }

  getActiveViewOfType<T extends obsidian.View>(type: obsidian.Constructor<T>): T | null {
    const view = this.activeLeaf?.view;
    return view instanceof (type as unknown as new (...args: never[]) => unknown)
      ? (view as unknown as T)
      : null;
  }

  iterateAllLeaves(callback: (leaf: WorkspaceLeaf) => unknown): void {
    for (const leaf of [...this.leaves]) callback(leaf);
  }

  iterateRootLeaves(callback: (leaf: WorkspaceLeaf) => unknown): void {
    for (const leaf of this.leaves.filter((l) => l.side === 'root')) callback(leaf);
  }

  detachLeavesOfType(viewType: string): void {
    for (const leaf of this.getLeavesOfType(viewType)) leaf.detach();
  }

  /** Opens a note by link text (a path or a name), in a new leaf or the current one. */
  async openLinkText(linktext: string, sourcePath: string, newLeaf?: unknown): Promise<void> {
    const file = this.app.metadataCache.getFirstLinkpathDest(linktext, sourcePath);
    if (!file) throw new Error(`No note found for "${linktext}"`);
    await this.getLeaf(newLeaf).openFile(file);
  }

  getLastOpenFiles(): string[] {
    return [];
  }

  requestSaveLayout = Object.assign(async () => {}, {
    cancel: () => undefined,
    run: async () => {},
  }) as unknown as obsidian.Workspace['requestSaveLayout'];

  /** Fake-internal. */
  removeLeaf(leaf: WorkspaceLeaf): void {
    const at = this.leaves.indexOf(leaf);
    if (at >= 0) this.leaves.splice(at, 1);
    if (this.activeLeaf === leaf) this.setActiveLeaf(null);
    this.trigger('layout-change');
  }

  private addLeaf(side: WorkspaceLeaf['side']): WorkspaceLeaf {
    const leaf = new WorkspaceLeaf(this.app, side);
    this.leaves.push(leaf);
    this.containerEl.appendChild(leaf.view.containerEl);
    return leaf;
  }
}
