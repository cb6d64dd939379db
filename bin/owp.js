#!/usr/bin/env node
// The `owp` command. In a development checkout it runs the TypeScript sources through tsx's
// loader (a devDependency), so it always matches the code; in a production install (no tsx) it
// runs the bundle that `npm run build` writes to dist/cli/owp.js.
let main;
try {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../server/cli/main.ts'));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  ({ main } = await import('../dist/cli/owp.js'));
}
await main();
