// CrashBackoff moved to services/shared (the balancer's cluster primary uses it too).
export { CrashBackoff } from '../shared/backoff.js';
