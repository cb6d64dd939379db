// The build imports WebAssembly files as bytes (esbuild's `binary` loader).
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
