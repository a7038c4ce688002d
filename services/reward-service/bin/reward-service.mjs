#!/usr/bin/env node
// Runs the reward-service from its TypeScript source (the repo runs TS through tsx; see README).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
