/**
 * A fake of the `obsidian` module for tests (vitest aliases `obsidian` to this file): the parts
 * the plugin uses, behaving as Obsidian does, over a real folder on disk and a happy-dom DOM.
 * Fake-only helpers (`createApp`, `Notice.messages`, `setMobile`, …) are imported from this
 * path directly, since the real module's types do not have them.
 */
export { App, Commands, SettingWindow, createApp, type CreateAppOptions } from './app.ts';
export { FileSystemAdapter } from './adapter.ts';
export { Component } from './component.ts';
export { domDocument, domWindow, type DomElementInfo } from './dom.ts';
export { EventRef, Events } from './events.ts';
export { FileManager } from './file-manager.ts';
export { TAbstractFile, TFile, TFolder } from './files.ts';
export { getFrontMatterInfo, parseYaml, stringifyYaml } from './frontmatter.ts';
export {
  Menu,
  MenuItem,
  addIcon,
  apiVersion,
  debounce,
  requireApiVersion,
  setIcon,
  setTooltip,
} from './helpers.ts';
export { MetadataCache } from './metadata-cache.ts';
export { Modal } from './modal.ts';
export { Notice } from './notice.ts';
export { normalizePath } from './paths.ts';
export { Platform, setMobile } from './platform.ts';
export { Plugin, PluginSettingTab, SettingTab } from './plugin.ts';
export { requestUrl } from './request-url.ts';
export { SecretStorage } from './secret-storage.ts';
export {
  BaseComponent,
  ButtonComponent,
  DropdownComponent,
  ExtraButtonComponent,
  Setting,
  TextAreaComponent,
  TextComponent,
  ToggleComponent,
  ValueComponent,
} from './setting.ts';
export { Vault } from './vault.ts';
export { ItemView, MarkdownView, View, Workspace, WorkspaceLeaf } from './workspace.ts';
