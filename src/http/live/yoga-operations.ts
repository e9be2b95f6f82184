import type { IncomingMessage } from 'node:http';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  GraphQLError,
  getOperationAST,
  getVariableValues,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import { type BatchView, isBatchDone } from '../../core/batches.js';
import type { Caller } from '../../core/caller.js';
import { isTerminal, type Task } from '../../core/model.js';
import type { GatewayContext } from '../../graphql/schema/context.js';
import type { ServerContext } from '../../graphql/server-context.js';
import { requestScope } from '../../observability/logging.js';
import type { GraphQLParams } from '../graphql-params.js';
import type { StreamCaller } from './caller.js';
import type { SharedEvent } from './stream-group.js';

/** What a shared execution runs: a group's document for its caller. */
type SharedSpec = {
  readonly caller: StreamCaller;
  readonly query: string;
  readonly document: DocumentNode;
  readonly variables: Record<string, unknown> | null;
  readonly operationName: string | null;
};

type GatewayYoga = YogaServerInstance<ServerContext, GatewayContext>;

/**
 * What `perform` did with an operation: refused it with an HTTP answer (graphql-sse's), or ran it
 * (one result, or a subscription's stream of them).
 */
export type Performed =
  | {
      readonly answer: {
        readonly status: number;
        readonly body: string;
        readonly headers?: Readonly<Record<string, string>>;
      };
    }
  | { readonly result: ExecutionResult | AsyncIterable<ExecutionResult> };

const MAX_DOCUMENTS = 1_000;

/**
 * The request Yoga's own plugins see in a shared execution's context: they mark parse and validation
 * errors for the HTTP status only in a request's context, and Yoga caches those errors for the
 * next request with the same text.
 */
const REQUEST = new Request('http://gateway.invalid/graphql', { method: 'POST' });

/** Marks the context of a shared execution (see `plugin`). */
const SHARED_EXECUTION = Symbol('shared-execution');
/** Marks the context of an operation the stream layer runs (see `plugin`). */
const STREAM_OPERATION = Symbol('stream-operation');

/** Yoga's own pipeline never subscribes: the stream layer (PROTOCOL.md) serves every subscription. */
const NOT_HERE: ExecutionResult = {
  errors: [
    new GraphQLError(
      'Send a subscription on its own as JSON (or GET), with Accept: text/event-stream or multipart/mixed;subscriptionSpec=1.0, or to /graphql/stream.',
      { extensions: { code: 'BAD_REQUEST' } },
    ),
  ],
};

/** What Yoga would answer for an execution that threw instead of returning errors (maskError). */
export const UNEXPECTED: ExecutionResult = {
  errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } } as never],
};

/**
 * The live routes' way into Yoga: documents parsed and validated through Yoga's own (enveloped)
 * parse and validate — so the operation limits and every plugin apply — and executions through
 * its enveloped execute, so plugins see each shared execution once and errors come out masked as
 * Yoga masks them. Also learns which document a persisted operation's hash names, from the
 * requests Yoga resolved it for.
 */
export class YogaOperations {
  #yoga: GatewayYoga | null = null;
  readonly #documents = new Map<string, DocumentNode | null>();

  constructor(
    /** Trusted documents by id (PERSISTED_OPERATIONS_FILE), for operations sent by hash. @default none */
    private readonly trusted: Readonly<Record<string, string>> = {},
  ) {}

  /** Captures the Yoga instance; keeps subscriptions out of Yoga's own request pipeline. */
  plugin(): Plugin<GatewayContext> {
    return {
      onYogaInit: ({ yoga }) => {
        this.#yoga = yoga as unknown as GatewayYoga;
      },
      // Yoga's executor would subscribe for a subscription document; a shared execution runs the
      // operation once for one event, as graphql-js does for each event of a subscription.
      onExecute: ({ args, setExecuteFn }) => {
        if ((args.contextValue as unknown as Record<symbol, unknown>)[SHARED_EXECUTION])
          setExecuteFn(execute);
      },
      // What reaches Yoga's own pipeline as a subscription is one the node handler could not read
      // (a batch, a form upload): refused, so subscriptions have one implementation.
      onSubscribe: ({ args, setSubscribeFn }) => {
        if (!(args.contextValue as unknown as Record<symbol, unknown>)[STREAM_OPERATION])
          setSubscribeFn(() => NOT_HERE);
      },
    };
  }

  /** The text of a trusted document sent by its id (with or without the `sha256:` prefix). */
  #byHash(hash: string): string | undefined {
    return this.trusted[hash] ?? this.trusted[`sha256:${hash}`];
  }

  /**
   * The document text and its parsed, validated form for `params` (by text or by a hash Yoga has
   * resolved before), with variables that coerce; null when Yoga must answer (it then reports
   * whatever is wrong, as it would on its own).
   */
  prepare(
    params: GraphQLParams,
    caller: Caller,
  ): { query: string; document: DocumentNode; operation: OperationDefinitionNode } | null {
    const query = params.query ?? (params.documentHash ? this.#byHash(params.documentHash) : undefined);
    if (query === undefined || !this.#yoga) return null;
    let document = this.#documents.get(query);
    if (document === undefined) {
      document = this.#parseAndValidate(query, params, caller);
      if (this.#documents.size >= MAX_DOCUMENTS) this.#documents.clear();
      this.#documents.set(query, document);
    }
    if (!document) return null;
    const operation = getOperationAST(document, params.operationName);
    if (!operation) return null;
    const coerced = getVariableValues(
      this.#yoga.getEnveloped().schema,
      operation.variableDefinitions ?? [],
      params.variables ?? {},
    );
    return coerced.errors ? null : { query, document, operation };
  }

  /**
   * One execution of a spec with a task or batch view as the root value, serialised once. It runs outside any
   * request's scope: the update was published by whatever request changed the task, and its id
   * must not end up in (masked) errors sent to everybody watching.
   */
  async execute(spec: SharedSpec, root: Task | BatchView): Promise<SharedEvent> {
    const result = await requestScope.exit(() => this.#execute(spec, root));
    const final = 'batch' in root ? isBatchDone(root) : isTerminal(root.state);
    return { result, json: JSON.stringify(result), final };
  }

  async #execute(spec: SharedSpec, root: Task | BatchView): Promise<ExecutionResult> {
    const yoga = this.#yoga;
    if (!yoga) return UNEXPECTED;
    try {
      const enveloped = yoga.getEnveloped(this.#initialContext(spec.caller, spec));
      const contextValue = await enveloped.contextFactory();
      return (await enveloped.execute({
        schema: enveloped.schema,
        document: spec.document,
        rootValue: root,
        contextValue,
        variableValues: spec.variables,
        operationName: spec.operationName,
      })) as ExecutionResult;
    } catch (error) {
      yoga.logger.error(error);
      return UNEXPECTED;
    }
  }

  /**
   * Runs any operation through Yoga's enveloped parse, validate, context and execute (or
   * subscribe), so every plugin sees it and errors are masked: the operations of the stream
   * transports that the hub does not share (another field, a task the caller cannot see, a query
   * over graphql-sse, or any subscription when sharing is off).
   */
  async perform(
    params: { query: string; variables: Record<string, unknown> | null; operationName: string | null },
    serverContext: ServerContext,
    request: Request,
  ): Promise<Performed> {
    const yoga = this.#yoga;
    if (!yoga) return { result: UNEXPECTED };
    const enveloped = yoga.getEnveloped({
      ...serverContext,
      request,
      params,
      [STREAM_OPERATION]: true,
    } as never);
    let document: DocumentNode;
    try {
      document = enveloped.parse(params.query);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return { answer: { status: 400, body: parseFailureBody(error) } };
    }
    const errors = enveloped.validate(enveloped.schema, document);
    if (errors.length > 0) return { answer: { status: 400, body: JSON.stringify({ errors }) } };
    const operation = getOperationAST(document, params.operationName);
    if (!operation) {
      const body = JSON.stringify({ errors: [{ message: 'Unable to detect operation AST' }] });
      return { answer: { status: 400, body } };
    }
    // Mutations cannot happen over GET (GraphQL over HTTP), as graphql-sse answers.
    if (operation.operation === 'mutation' && request.method === 'GET') {
      const body = JSON.stringify({ errors: [{ message: 'Cannot perform mutations over GET' }] });
      return { answer: { status: 405, body, headers: { allow: 'POST' } } };
    }
    const contextValue = await enveloped.contextFactory();
    const args = {
      schema: enveloped.schema,
      document,
      contextValue,
      variableValues: params.variables,
      operationName: params.operationName,
    };
    const run = operation.operation === 'subscription' ? enveloped.subscribe : enveloped.execute;
    try {
      return { result: (await run(args)) as ExecutionResult | AsyncIterable<ExecutionResult> };
    } catch (error) {
      yoga.logger.error(error);
      return { result: UNEXPECTED };
    }
  }

  #parseAndValidate(query: string, params: GraphQLParams, caller: Caller): DocumentNode | null {
    const yoga = this.#yoga;
    if (!yoga) return null;
    try {
      const enveloped = yoga.getEnveloped(this.#initialContext(caller, { ...params, query }));
      const document = enveloped.parse(query);
      return enveloped.validate(enveloped.schema, document).length === 0 ? document : null;
    } catch {
      return null;
    }
  }

  /** What Yoga's context factory reads from a request (the node handler authenticated it). */
  #initialContext(
    caller: Caller,
    params: { query: string; variables: Record<string, unknown> | null; operationName: string | null },
  ): never {
    return {
      [SHARED_EXECUTION]: true,
      request: REQUEST,
      req: { caller, requestId: '' },
      params: { query: params.query, variables: params.variables, operationName: params.operationName },
    } as never;
  }
}

/** The 400 body for a document that does not parse, on every stream transport. */
export function parseFailureBody(error: GraphQLError): string {
  return JSON.stringify({
    errors: [
      { message: error.message, extensions: { code: error.extensions.code ?? 'GRAPHQL_PARSE_FAILED' } },
    ],
  });
}

/** A fetch `Request` with the node request's method and headers, for Yoga's plugins to read. */
export function requestOf(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return new Request(`http://gateway.invalid${req.url ?? '/'}`, { method: req.method ?? 'GET', headers });
}
