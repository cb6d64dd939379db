import sqlWasm from 'sql.js/dist/sql-wasm.wasm';

/**
 * sql.js's WebAssembly, inlined into main.js by the build, so the embedded database needs no file
 * beside the plugin and no network — on mobile neither. Tests replace this module (vitest cannot
 * import `.wasm` as bytes) and let sql.js find the file in node_modules.
 */
export const sqlWasmBinary: Uint8Array | undefined = sqlWasm;
