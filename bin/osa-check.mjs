#!/usr/bin/env node
// osa-check: what a snap repo's workflow does on each event (src/actions/check.ts).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const toolkit = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { main } = await import(resolve(toolkit, 'dist/check/index.js'));
process.exitCode = await main(process.argv.slice(2), toolkit);
