// Copies the non-TypeScript files the services load at run time into dist/.
import { cpSync } from 'node:fs';

cpSync('services/worker/migrations', 'dist/services/worker/migrations', { recursive: true });
