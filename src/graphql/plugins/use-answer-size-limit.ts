import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** How large the answer of one operation, and of one HTTP request, may be. */
export interface AnswerSizeLimitOptions {
  /**
   * The most bytes one operation's answer may take as JSON. The cost limit (use-cost-limit.ts)
   * already bounds what can be selected; this bounds what it comes to (long prompts, many images).
   * @default 8 MiB
   */
  readonly maxOperationBytes?: number;
  /**
   * The most bytes the answers of one HTTP request (a batched JSON array adds up) may take.
   * @default 16 MiB
   */
  readonly maxRequestBytes?: number;
}

export const DEFAULT_ANSWER_SIZE_LIMITS = {
  maxOperationBytes: 8 * 1024 * 1024,
  maxRequestBytes: 16 * 1024 * 1024,
} as const;

const MB = 1024 * 1024;

/**
 * Replaces an executed answer larger than the limit with `ANSWER_TOO_LARGE` (its size and the
 * limit), so no request can make the gateway hold and send an answer of hundreds of megabytes
 * (#27: the red-team query answered 413 MB). Measured as the JSON the client would get; answers
 * already sent for the same request count toward its limit. Subscription updates are not measured
 * here: each is one task or batch, bounded by the cost limit.
 */
export function useAnswerSizeLimit(options: AnswerSizeLimitOptions = {}): Plugin {
  const limits = { ...DEFAULT_ANSWER_SIZE_LIMITS, ...options };
  const sent = new WeakMap<object, number>();
  const refuse = (message: string, bytes: number, maxBytes: number) => ({
    errors: [new GraphQLError(message, { extensions: { code: 'ANSWER_TOO_LARGE', bytes, maxBytes } })],
  });
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result, setResult }) => {
        if (Symbol.asyncIterator in result) return;
        const bytes = Buffer.byteLength(JSON.stringify(result));
        if (bytes > limits.maxOperationBytes) {
          setResult(
            refuse(
              `The answer would take ${(bytes / MB).toFixed(1)} MB, over the limit of ${(limits.maxOperationBytes / MB).toFixed(0)} MB per operation: ask for fewer items (smaller pages, fewer ids) or fewer fields.`,
              bytes,
              limits.maxOperationBytes,
            ),
          );
          return;
        }
        const request = (args.contextValue as { request?: object }).request;
        if (!request) return;
        const total = (sent.get(request) ?? 0) + bytes;
        sent.set(request, total);
        if (total > limits.maxRequestBytes) {
          setResult(
            refuse(
              `The answers of this request would take ${(total / MB).toFixed(1)} MB together, over the limit of ${(limits.maxRequestBytes / MB).toFixed(0)} MB per request: send the operations in separate requests, or ask for less.`,
              total,
              limits.maxRequestBytes,
            ),
          );
        }
      },
    }),
  };
}
