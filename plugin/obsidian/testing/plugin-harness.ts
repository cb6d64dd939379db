import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginManifest } from 'obsidian';
import type OwpPoolPlugin from '../../main.ts';
import { createApp, type App } from '../../testing/obsidian-fake/index.ts';

/** The plugin's own manifest, as Obsidian reads it from the plugin folder. */
export const MANIFEST = JSON.parse(
  // A path, not a URL: under happy-dom, `URL` is the DOM's, which Node's fs does not take.
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../manifest.json'), 'utf8'),
) as PluginManifest;

export const PLUGIN_DIR = '.obsidian/plugins/owp-pool';

export interface StartOptions {
  /** Notes and other files in the vault before Obsidian opens it. */
  files?: Record<string, string>;
  /** The plugin's data.json. */
  data?: unknown;
  /** An existing vault folder (a second start of the same vault). */
  vaultPath?: string;
  /** Stop before the layout is ready (default: ready, and the pool started). */
  layoutReady?: boolean;
  /** Runs on the app before the plugin loads (to put secrets in its secret storage, say). */
  beforeLoad?: (app: App) => void;
}

export interface StartedPlugin {
  app: App;
  plugin: OwpPoolPlugin;
}

/**
 * Opens a vault in the fake Obsidian and enables the plugin as Obsidian does: construct, `onload`,
 * then the layout becomes ready and the pool starts. `Plugin` is passed in, so that each test file
 * imports main.ts itself (after mocking what it must).
 */
export async function startPlugin(
  Plugin: typeof OwpPoolPlugin,
  options: StartOptions = {},
): Promise<StartedPlugin> {
  const files = { ...options.files };
  if (options.data !== undefined) files[`${PLUGIN_DIR}/data.json`] = JSON.stringify(options.data);
  const app = createApp({ vaultPath: options.vaultPath, files });
  options.beforeLoad?.(app);
  const plugin = await app.loadPlugin(Plugin, MANIFEST);
  if (options.layoutReady !== false) {
    await app.workspace.setLayoutReady();
    await plugin.ready;
  }
  return { app, plugin };
}

/** Unloads the plugin and waits until it has saved and closed everything. */
export async function stopPlugin({ app, plugin }: StartedPlugin): Promise<void> {
  await app.unloadPlugin(plugin);
  await plugin.stopped;
}

/** Waits until `check` passes (returns without throwing), polling; fails with its last error. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** Runs a command as the palette would; fails if it does not exist or cannot run now. */
export function runCommand(app: App, id: string): void {
  if (!app.commands.executeCommandById(`${MANIFEST.id}:${id}`)) {
    throw new Error(`Command ${id} is not available now.`);
  }
}

/** Types into an input as a person would: sets the value, fires `input`. */
export function typeInto(input: HTMLInputElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new input.ownerDocument.defaultView!.Event('input', { bubbles: true }));
}

/** Types `value` into a text field and leaves it (Enter or blur): the `change` that saves it. */
export function commitInto(input: HTMLInputElement, value: string): void {
  typeInto(input, value);
  input.dispatchEvent(new input.ownerDocument.defaultView!.Event('change', { bubbles: true }));
}

/** The elements of `root` matching `selector` whose text includes `text`. */
export function withText<E extends Element>(root: ParentNode, selector: string, text: string): E[] {
  return [...root.querySelectorAll<E>(selector)].filter((el) => el.textContent?.includes(text));
}
