import { MarkdownView, type App, type Plugin } from 'obsidian';
import { mount, unmount } from 'svelte';
import type { Readable } from 'svelte/store';
import type { PoolSnapshot } from '../state/pool-snapshot.ts';
import TaskNotePanel from '../ui/TaskNotePanel.svelte';

/** What the panels need from the plugin's pool. */
export interface TaskNotePanelHost {
  pool: Readable<PoolSnapshot>;
  /** The task a note stands for, if it is a task's note. */
  taskIdOfNote(path: string): string | undefined;
  openTask(taskId: string): void;
}

interface MountedPanel {
  taskId: string;
  el: HTMLElement;
  component: Record<string, unknown>;
}

/**
 * The pool's panel at the top of every open task note, in editing and reading mode alike: the
 * repo's contract, what the task waits on and what it blocks. It is drawn beside the note, never
 * written into it, so the note sync's rule — the body is the description — holds untouched.
 *
 * Rejected: a Markdown code block (```owp-task```) would have to be in the body, where it would be
 * part of the description; a Markdown post-processor runs in reading mode only, and most people
 * edit in live preview.
 */
export class TaskNotePanels {
  /** By the Markdown view's container element (a view may show another note later). */
  private readonly mounted = new Map<HTMLElement, MountedPanel>();

  constructor(
    private readonly app: App,
    private readonly host: TaskNotePanelHost,
  ) {}

  /** Follows the workspace and the pool until the plugin unloads, which removes every panel. */
  register(plugin: Plugin): void {
    const refresh = () => this.refresh();
    const { workspace } = this.app;
    plugin.registerEvent(workspace.on('file-open', refresh));
    plugin.registerEvent(workspace.on('layout-change', refresh));
    plugin.registerEvent(workspace.on('active-leaf-change', refresh));
    // A note becomes a task (or stops being one) when the pool says so.
    plugin.register(this.host.pool.subscribe(refresh));
    plugin.register(() => this.clear());
  }

  /** Puts a panel on every open task note, and takes it off notes that are not (or no longer). */
  refresh(): void {
    const seen = new Set<HTMLElement>();
    this.app.workspace.iterateAllLeaves((leaf) => {
      const view = leaf.view;
      if (!(view instanceof MarkdownView)) return;
      const key = view.containerEl;
      seen.add(key);
      const taskId = view.file ? this.host.taskIdOfNote(view.file.path) : undefined;
      const current = this.mounted.get(key);
      if (current?.taskId === taskId && current?.el.isConnected) return;
      if (current) this.remove(key, current);
      if (taskId) this.add(view, taskId);
    });
    for (const [key, panel] of this.mounted) if (!seen.has(key)) this.remove(key, panel);
  }

  private add(view: MarkdownView, taskId: string): void {
    const el = createDiv({ cls: 'owp-note-panel-host' });
    view.containerEl.insertBefore(el, view.contentEl);
    const component = mount(TaskNotePanel, {
      target: el,
      props: {
        pool: this.host.pool,
        taskId,
        onOpenTask: (id: string) => this.host.openTask(id),
      },
    });
    this.mounted.set(view.containerEl, { taskId, el, component });
  }

  private remove(key: HTMLElement, panel: MountedPanel): void {
    this.mounted.delete(key);
    void unmount(panel.component);
    panel.el.remove();
  }

  private clear(): void {
    for (const [key, panel] of this.mounted) this.remove(key, panel);
  }
}
