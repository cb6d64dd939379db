// Types for scripts/plugin-build.mjs, which the browser tests import.
import type { BuildOptions, Plugin } from 'esbuild';

export const ROOT: string;
export const PLUGIN_OUTDIR: string;
export const PLUGIN_FILES: string[];
export function pluginSvelteOptions(options?: { production?: boolean }): Plugin;
export function pluginBuildOptions(options?: {
  outdir?: string;
  production?: boolean;
  plugins?: Plugin[];
}): BuildOptions;
export function buildPlugin(options?: { outdir?: string; production?: boolean }): Promise<void>;
