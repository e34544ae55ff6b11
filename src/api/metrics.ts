import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerGcMemory } from './gc-memory.ts';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  ingested: Counter<'source' | 'action'>;
  reads: Counter<'action' | 'outcome'>;
  hl7Messages: Counter<'source' | 'ack'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerGcMemory(registry);
  return {
    registry,
    httpDuration: new Histogram({
      name: 'sharedcare_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    ingested: new Counter({
      name: 'sharedcare_ingested_entries_total',
      help: 'Entries received from sources, by outcome',
      labelNames: ['source', 'action'],
      registers: [registry],
    }),
    hl7Messages: new Counter({
      name: 'sharedcare_hl7v2_messages_total',
      help: 'HL7 v2 messages received, by source and acknowledgement code',
      labelNames: ['source', 'ack'],
      registers: [registry],
    }),
    reads: new Counter({
      name: 'sharedcare_record_reads_total',
      help: 'Governed reads, by kind and outcome',
      labelNames: ['action', 'outcome'],
      registers: [registry],
    }),
  };
}
