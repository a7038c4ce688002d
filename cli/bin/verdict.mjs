#!/usr/bin/env node
// Packages export TypeScript source; tsx's ESM hook makes `npx verdict` run it directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
