#!/usr/bin/env node
// The `owp` command. Until the production build lands it runs the TypeScript sources through
// tsx's loader (a devDependency), so it works from a fresh clone after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli/main.ts');
await main();
