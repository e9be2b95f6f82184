import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Counter } from 'prom-client';

/** Where operations are counted, and how many distinct names get a label of their own. */
export interface OperationMetricsOptions {
  /** Counted with `operation` (the name, or `anonymous`/`other`) and `outcome` (`ok`/`error`). */
  readonly counter: Counter<'operation' | 'outcome'>;
  /**
   * Distinct operation names counted under their own label; the rest count as `other`.
   * @default 100
   */
  readonly maxLabels?: number;
  /**
   * Longer names are cut to this many characters before they become a label.
   * @default 64
   */
  readonly maxNameLength?: number;
}

/** The label cap the gateway runs with. */
export const MAX_OPERATION_LABELS = 100;

/**
 * Counts executed operations by name and outcome for /metrics. Operation names come from clients:
 * only so many distinct ones become label values, so a flood of made-up names cannot grow
 * /metrics (and the memory behind it) without end.
 */
export function useOperationMetrics(options: OperationMetricsOptions): Plugin {
  const maxLabels = options.maxLabels ?? MAX_OPERATION_LABELS;
  const maxNameLength = options.maxNameLength ?? 64;
  const known = new Set<string>();
  const label = (name: string): string => {
    if (known.has(name)) return name;
    if (known.size >= maxLabels) return 'other';
    known.add(name);
    return name;
  };
  return {
    onExecute: ({ args }) => {
      const name = getOperationAST(args.document, args.operationName)?.name?.value ?? 'anonymous';
      return {
        onExecuteDone: ({ result }) => {
          const failed = 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
          options.counter.inc({
            operation: label(name.slice(0, maxNameLength)),
            outcome: failed ? 'error' : 'ok',
          });
        },
      };
    },
  };
}
