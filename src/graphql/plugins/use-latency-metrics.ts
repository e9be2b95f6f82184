import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';

/** Where the latency histograms are registered, and their buckets. */
export interface LatencyMetricsOptions {
  /** The gateway's one registry (GatewayMetrics.registry), which /metrics already serves. */
  readonly registry: Registry;
  /**
   * Upper bounds of the histogram buckets, in seconds.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  readonly buckets?: readonly [number, ...number[]];
}

const DEFAULT_BUCKETS: [number, ...number[]] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Request and phase latency histograms for /metrics (Yoga's Prometheus plugin on the gateway's own
 * registry): `graphql_yoga_http_duration` per HTTP request Yoga answers, and
 * `graphql_envelop_phase_{parse,validate,context,execute,subscribe}` per phase. Labels are the
 * operation type, HTTP method and status only: operation names come from clients and are counted,
 * capped, by useOperationMetrics; paths are few and known. The plugin's counters and summary would
 * repeat `graphql_operations_total`, and its own /metrics endpoint the gateway's, so both are off.
 */
export function useLatencyMetrics(options: LatencyMetricsOptions): Plugin {
  const buckets: [number, ...number[]] = [...(options.buckets ?? DEFAULT_BUCKETS)];
  return usePrometheus({
    registry: options.registry,
    endpoint: false,
    skipIntrospection: false,
    labels: { operationName: false, url: false },
    metrics: {
      graphql_yoga_http_duration: buckets,
      graphql_envelop_phase_parse: buckets,
      graphql_envelop_phase_validate: buckets,
      graphql_envelop_phase_context: buckets,
      graphql_envelop_phase_execute: buckets,
      graphql_envelop_phase_subscribe: buckets,
      graphql_envelop_request: false,
      graphql_envelop_request_duration: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_error_result: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
    },
  });
}
