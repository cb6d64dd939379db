import { MarkdownView, Notice, type Plugin } from 'obsidian';
import { CreateTaskModal } from './create-task-modal.ts';
import { ImportTasksModal } from './import-tasks-modal.ts';
import type { PoolController } from './pool-controller.ts';
import type { PoolViewKind } from './pool-views.ts';
import { isWorkerRole, localWorkerId } from './settings.ts';
import type { SettingsStore } from './settings-store.ts';

/** What the commands need from the plugin. */
export interface CommandHost {
  plugin: Plugin;
  controller: PoolController;
  settings: SettingsStore;
  openView: (kind: PoolViewKind) => Promise<void>;
}

const VIEW_COMMANDS: { kind: PoolViewKind; id: string; name: string }[] = [
  { kind: 'board', id: 'open-board', name: 'Open board' },
  { kind: 'workers', id: 'open-workers', name: 'Open workers' },
  { kind: 'activity', id: 'open-activity', name: 'Open activity' },
  { kind: 'myWork', id: 'open-my-work', name: 'Open my work' },
  { kind: 'analytics', id: 'open-analytics', name: 'Open analytics' },
];

/**
 * The plugin's commands. None has a default hotkey (the user picks their own), and those that only
 * make sense at some moments (going online while offline, turning a note that is not yet a task
 * into one) appear in the palette only then.
 */
export function registerCommands({ plugin, controller, settings, openView }: CommandHost): void {
  const app = plugin.app;
  const report = (what: string) => (error: unknown) =>
    new Notice(`${what}: ${error instanceof Error ? error.message : String(error)}`);

  plugin.addCommand({
    id: 'create-task',
    name: 'Create task',
    callback: () => {
      new CreateTaskModal(app, { repo: settings.settings.defaultRepo }, async (request) => {
        await controller.createTask(request);
      }).open();
    },
  });

  plugin.addCommand({
    id: 'turn-note-into-task',
    name: 'Turn the current note into a task',
    checkCallback: (checking) => {
      const file = app.workspace.getActiveViewOfType(MarkdownView)?.file;
      if (!file || file.extension !== 'md' || controller.isTaskNote(file.path)) return false;
      if (!checking) void controller.convertNote(file).catch(report('Could not make it a task'));
      return true;
    },
  });

  // The notes found in the tasks folder when the sync first ran over it are left as they are (a
  // folder named "Tasks" may be the user's own); this makes them tasks, on purpose.
  plugin.addCommand({
    id: 'make-folder-notes-tasks',
    name: 'Make the notes in the tasks folder tasks',
    checkCallback: (checking) => {
      const sync = controller.running?.sync;
      if (!sync || sync.notesLeftAlone().length === 0) return false;
      if (!checking) {
        void sync
          .makeTasksOfNotesLeftAlone()
          .then(({ made, notMade }) => {
            new Notice(
              `${made} note(s) in the tasks folder became tasks.` +
                (notMade > 0
                  ? ` ${notMade} could not; a notice of its own says why for each.`
                  : ''),
            );
          })
          .catch(report('Could not make them tasks'));
      }
      return true;
    },
  });

  plugin.addCommand({
    id: 'why-task-waits',
    name: 'Why is this task waiting?',
    checkCallback: (checking) => {
      const file = app.workspace.getActiveViewOfType(MarkdownView)?.file;
      // The pool explains to its admin: the note sync runs only with admin credentials.
      if (!file || !controller.isTaskNote(file.path)) return false;
      if (!checking) void controller.explainNote(file.path).catch(report('Could not ask the pool'));
      return true;
    },
  });

  plugin.addCommand({
    id: 'import-tasks',
    name: 'Import tasks from a YAML file',
    callback: () => {
      new ImportTasksModal(app, { repo: settings.settings.defaultRepo }, async (file, repo) => {
        await controller.importTasks(file, repo);
      }).open();
    },
  });

  plugin.addCommand({
    id: 'register-worker',
    name: 'Register as worker',
    checkCallback: (checking) => {
      if (!isWorkerRole(settings.settings.role)) return false;
      if (!checking) void controller.registerWorker().catch(report('Could not register'));
      return true;
    },
  });

  plugin.addCommand({
    id: 'go-online',
    name: 'Go online',
    checkCallback: (checking) => {
      if (!isWorkerRole(settings.settings.role) || controller.running?.online) return false;
      if (!checking) void controller.setOnline(true).catch(report('Could not go online'));
      return true;
    },
  });

  plugin.addCommand({
    id: 'go-offline',
    name: 'Go offline',
    checkCallback: (checking) => {
      if (!controller.running?.online || !localWorkerId(settings.settings)) return false;
      if (!checking) void controller.setOnline(false).catch(report('Could not go offline'));
      return true;
    },
  });

  for (const { kind, id, name } of VIEW_COMMANDS) {
    plugin.addCommand({ id, name, callback: () => void openView(kind) });
  }
}
