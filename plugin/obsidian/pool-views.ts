import { ItemView, Platform, type WorkspaceLeaf } from 'obsidian';
import { mount, unmount } from 'svelte';
import Activity from '../ui/Activity.svelte';
import Analytics from '../ui/Analytics.svelte';
import Board from '../ui/Board.svelte';
import MyWork from '../ui/MyWork.svelte';
import type { PoolViewHost } from '../ui/view-host.ts';
import Workers from '../ui/Workers.svelte';

/** The view types, as saved in the workspace layout. */
export const VIEW_TYPES = {
  board: 'owp-pool-board',
  workers: 'owp-pool-workers',
  activity: 'owp-pool-activity',
  myWork: 'owp-pool-my-work',
  analytics: 'owp-pool-analytics',
} as const;

export type PoolViewKind = keyof typeof VIEW_TYPES;

/**
 * An Obsidian view that shows one Svelte component. The component gets the host's stores and
 * callbacks as props and is unmounted when the view closes, which also drops its subscriptions
 * (and with them the clock's interval once no view ticks).
 */
abstract class PoolView extends ItemView {
  private component: Record<string, unknown> | null = null;

  constructor(
    leaf: WorkspaceLeaf,
    protected readonly host: PoolViewHost,
  ) {
    super(leaf);
  }

  protected abstract mountInto(target: HTMLElement): Record<string, unknown>;

  override async onOpen(): Promise<void> {
    this.contentEl.empty();
    this.contentEl.addClass('owp-view-container');
    this.contentEl.toggleClass('is-phone', Platform.isPhone);
    this.component = this.mountInto(this.contentEl);
  }

  override async onClose(): Promise<void> {
    const component = this.component;
    this.component = null;
    if (component) await unmount(component);
  }
}

export class BoardView extends PoolView {
  getViewType(): string {
    return VIEW_TYPES.board;
  }

  getDisplayText(): string {
    return 'Pool board';
  }

  override getIcon(): string {
    return 'layout-dashboard';
  }

  protected mountInto(target: HTMLElement): Record<string, unknown> {
    const host = this.host;
    return mount(Board, {
      target,
      props: {
        pool: host.pool,
        session: host.session,
        clock: host.clock,
        onOpenTask: (taskId: string) => host.openTask(taskId),
        onMoveTask: (...args: Parameters<PoolViewHost['moveTask']>) => host.moveTask(...args),
      },
    });
  }
}

export class WorkersView extends PoolView {
  getViewType(): string {
    return VIEW_TYPES.workers;
  }

  getDisplayText(): string {
    return 'Pool workers';
  }

  override getIcon(): string {
    return 'users';
  }

  protected mountInto(target: HTMLElement): Record<string, unknown> {
    const host = this.host;
    return mount(Workers, {
      target,
      props: {
        pool: host.pool,
        session: host.session,
        clock: host.clock,
        onPause: (workerId: string) => host.pauseWorker(workerId),
        onResume: (workerId: string) => host.resumeWorker(workerId),
        onChangeTrust: (workerId: string) => host.changeTrustTier(workerId),
        onNewToken: (workerId: string) => host.newWorkerToken(workerId),
      },
    });
  }
}

export class ActivityView extends PoolView {
  getViewType(): string {
    return VIEW_TYPES.activity;
  }

  getDisplayText(): string {
    return 'Pool activity';
  }

  override getIcon(): string {
    return 'activity';
  }

  protected mountInto(target: HTMLElement): Record<string, unknown> {
    const host = this.host;
    return mount(Activity, {
      target,
      props: { pool: host.pool, onOpenTask: (taskId: string) => host.openTask(taskId) },
    });
  }
}

export class MyWorkView extends PoolView {
  getViewType(): string {
    return VIEW_TYPES.myWork;
  }

  getDisplayText(): string {
    return 'My work';
  }

  override getIcon(): string {
    return 'list-checks';
  }

  protected mountInto(target: HTMLElement): Record<string, unknown> {
    const host = this.host;
    return mount(MyWork, {
      target,
      props: {
        pool: host.pool,
        session: host.session,
        clock: host.clock,
        onOpenTask: (taskId: string) => host.openTask(taskId),
        onAction: (...args: Parameters<PoolViewHost['runWorkAction']>) =>
          host.runWorkAction(...args),
        onAcceptOffer: (offerId: string) => host.acceptOffer(offerId),
        onRejectOffer: (...args: Parameters<PoolViewHost['rejectOffer']>) =>
          host.rejectOffer(...args),
        onSetOnline: (online: boolean) => host.setOnline(online),
        onRegister: () => host.registerWorker(),
      },
    });
  }
}

export class AnalyticsView extends PoolView {
  getViewType(): string {
    return VIEW_TYPES.analytics;
  }

  getDisplayText(): string {
    return 'Pool analytics';
  }

  override getIcon(): string {
    return 'bar-chart-2';
  }

  protected mountInto(target: HTMLElement): Record<string, unknown> {
    const host = this.host;
    return mount(Analytics, {
      target,
      props: {
        pool: host.pool,
        session: host.session,
        onLoad: (repo: string) => host.repoAnalytics(repo),
      },
    });
  }
}

/** Where each view opens: the board in a tab of its own, the others in the right sidebar. */
export const VIEW_PLACES: Record<PoolViewKind, 'tab' | 'right'> = {
  board: 'tab',
  workers: 'right',
  activity: 'right',
  myWork: 'right',
  analytics: 'right',
};
