export { buildServer } from './server.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { answerMetricsRequests, shareMetricsWithPrimary } from './cluster-metrics.ts';
export type { Services } from './context.ts';
export { viewerLaunchUrl } from './dev-routes.ts';
export { buildMetricsServer } from './ops-routes.ts';
