export { buildServer } from './server.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export type { Services } from './context.ts';
