import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type FieldNode,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
  parse,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { isTerminal, type Task } from '../../core/model.js';
import type { GatewayContext, GatewayServices } from '../../graphql/schema/context.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { bufferedBody } from '../buffered-body.js';

/**
 * Two shortcuts in front of Yoga for the gateway's hottest requests. Both only ever repeat what
 * Yoga itself answered or approved, so the contract stays Yoga's:
 *
 * - **Finished-task answers.** A JSON POST whose operation only reads `backgroundTask` fields of
 *   tasks in a final state is answered from a cache of Yoga's own earlier answer to the same
 *   bytes (same tenant, `Accept`, `Origin`). A finished task changes only by being deleted, so an
 *   entry is served while every task it read is still there at the same version — confirmed in the
 *   store at most once a second and again after any mutation on this process — and while result
 *   links would still be signed with the same expiry (the signer rounds expiries to the minute).
 * - **Live task updates over SSE** (`backgroundTaskUpdated` on `/graphql` with
 *   `Accept: text/event-stream`, a document Yoga has already validated once). Subscribers of one
 *   task with the same document and variables share one group: each update is executed and
 *   serialised once for the group and the same bytes are written to every stream, and an idle
 *   stream costs a socket and a small record instead of Yoga's per-request pipeline. The wire
 *   format is Yoga's (`:` first, `event: next`, `event: complete`, a ping every 12 s); missing
 *   tasks, invalid variables and anything unusual are handed to Yoga.
 */
export class FastPaths {
  readonly #deps: FastPathDeps;
  readonly #answers = new Map<string, CachedAnswer>();
  #answerBytes = 0;
  readonly #documents = new Map<string, ParsedDocument | null>();
  /** Document texts Yoga validated (with the operation limits): safe to execute directly. */
  readonly #approved = new Set<string>();
  readonly #groups = new Map<string, StreamGroup>();
  readonly #ping: NodeJS.Timeout;
  #bucket = 0;
  /** Bumped when a mutation finishes on this process. */
  #generation = 0;
  #bucketReadAt = Number.NEGATIVE_INFINITY;

  constructor(deps: FastPathDeps) {
    this.#deps = deps;
    this.#ping = setInterval(() => this.#pingAll(), PING_INTERVAL_MS);
    this.#ping.unref();
  }

  /** Stops the keep-alive pings; streams end when their connections close. */
  close(): void {
    clearInterval(this.#ping);
  }

  /**
   * Takes a GraphQL request the node handler already authenticated. Returns true when it answered;
   * false when Yoga must (then a body it read is handed on in `req.body`).
   */
  async handle(req: IncomingMessage & { tenantId?: string }, res: ServerResponse): Promise<boolean> {
    const accept = req.headers.accept ?? '';
    const wantsStream = accept.includes('text/event-stream') && !accept.includes('multipart/mixed');
    // Cross-origin streams get Yoga's CORS headers from Yoga; a cached answer replays them per origin.
    const origin = req.headers.origin;
    if (origin !== undefined && wantsStream) return false;
    if (req.method === 'GET') {
      if (!wantsStream) return false;
      const url = new URL(req.url ?? '/', 'http://gateway.invalid');
      if (url.pathname !== '/graphql') return false;
      const params = paramsFromSearch(url.searchParams);
      return params ? this.#stream(req, res, params) : false;
    }
    if (req.method !== 'POST') return false;
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return false;
    const length = Number(req.headers['content-length'] ?? Number.NaN);
    if (!(length >= 0 && length <= MAX_BODY_BYTES)) return false;
    const body = (await readBody(req, length)) ?? Buffer.alloc(0);
    const handed = () => {
      (req as { body?: unknown }).body = bufferedBody([body]);
      return false;
    };
    const text = body.toString('utf8');
    const tenantId = req.tenantId ?? '';
    if (wantsStream) {
      if (!(req.url ?? '').startsWith('/graphql') || (req.url ?? '').startsWith('/graphql/')) return handed();
      const params = paramsFromJson(text);
      if (!params || !(await this.#stream(req, res, params))) return handed();
      return true;
    }
    const key = `${tenantId}\u0000${accept}\u0000${origin ?? ''}\u0000${text}`;
    try {
      const cached = this.#answers.get(key);
      if (cached && (this.#recentlyChecked(cached) || (await this.#stillValid(cached)))) {
        cached.counter.inc();
        res.writeHead(cached.status, cached.headers);
        res.end(cached.body);
        return true;
      }
      if (cached) this.#forget(key, cached);
      const candidate = await this.#cacheCandidate(tenantId, text);
      if (candidate) (req as FastPathRequest).fastPathAnswer = { key, ...candidate };
    } catch {
      // The store did not answer the checks: Yoga runs the operation and answers as it would.
    }
    return handed();
  }

  /** The Yoga plugin: learns validated documents and keeps Yoga's answers about finished tasks. */
  plugin(): Plugin<GatewayContext> {
    return {
      onValidate: ({ context }) => {
        const query = (context as { params?: { query?: unknown } }).params?.query;
        return ({ valid }) => {
          if (!valid || typeof query !== 'string' || this.#approved.has(query)) return;
          if (this.#approved.size >= MAX_DOCUMENTS) this.#approved.clear();
          this.#approved.add(query);
        };
      },
      onExecute: ({ args }) => {
        if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
        // Any mutation may have deleted a task: cached answers are checked against the store again.
        return {
          onExecuteDone: () => {
            this.#generation += 1;
          },
        };
      },
      onResponse: ({ response, serverContext }) => {
        const pending = (serverContext as { req?: FastPathRequest } | undefined)?.req?.fastPathAnswer;
        if (!pending || response.status !== 200) return;
        const contentType = response.headers.get('content-type') ?? '';
        if (!contentType.includes('json')) return;
        return response
          .clone()
          .text()
          .then(async (body) => {
            const parsed = JSON.parse(body) as { errors?: unknown };
            if (parsed.errors !== undefined) return;
            const entry: CachedAnswer = {
              status: response.status,
              headers: Object.fromEntries(response.headers),
              body: Buffer.from(body),
              deps: pending.deps,
              expiry: pending.expiry,
              operationName: pending.operationName,
              counter: this.#deps.metrics.operations.labels({
                operation: pending.operationName,
                outcome: 'ok',
              }),
              tenantId: pending.tenantId,
              checkedAt: 0,
              checkedGeneration: -1,
            };
            if (!(await this.#stillValid(entry))) return;
            this.#remember(pending.key, entry);
          })
          .catch(() => {});
      },
    };
  }

  // ---- finished-task answers ----

  async #cacheCandidate(tenantId: string, text: string): Promise<Omit<PendingAnswer, 'key'> | null> {
    const params = paramsFromJson(text);
    if (!params) return null;
    const doc = this.#document(params.query);
    if (doc?.operation.operation !== 'query') return null;
    if (params.operationName && doc.operation.name?.value !== params.operationName) return null;
    const fields = doc.operation.selectionSet.selections;
    if (fields.length === 0 || fields.length > 10) return null;
    const deps: TaskDep[] = [];
    for (const field of fields) {
      if (field.kind !== 'Field' || field.name.value !== 'backgroundTask' || field.directives?.length)
        return null;
      const id = idArgument(field, params.variables);
      if (id === null) return null;
      const task = await this.#deps.services.tasks.get(tenantId, id);
      if (!task || !isTerminal(task.state)) return null;
      deps.push({ id, version: task.version });
    }
    return {
      deps,
      tenantId,
      expiry: this.#signerBucket(),
      operationName: (params.operationName ?? 'anonymous').slice(0, 64),
    };
  }

  /**
   * Whether the entry's tasks were found unchanged in the store within the last second and no
   * mutation finished on this process since (a deletion through this gateway is seen at once).
   * What remains is a deletion by the retention sweeper or another instance, seen within a second.
   */
  #recentlyChecked(entry: CachedAnswer): boolean {
    return (
      entry.checkedGeneration === this.#generation &&
      Date.now() - entry.checkedAt < RECHECK_MS &&
      entry.expiry === this.#signerBucket()
    );
  }

  async #stillValid(entry: CachedAnswer): Promise<boolean> {
    if (entry.expiry !== this.#signerBucket()) return false;
    const generation = this.#generation;
    for (const dep of entry.deps) {
      const task = await this.#deps.services.tasks.get(entry.tenantId, dep.id);
      if (!task || task.version !== dep.version) return false;
    }
    entry.checkedAt = Date.now();
    entry.checkedGeneration = generation;
    return true;
  }

  /**
   * Result links handed out now expire at this instant (the signer rounds to the minute); a cached
   * answer is only as fresh as it. Read at most once a second, to keep an HMAC off every hit.
   */
  #signerBucket(): number {
    const now = Date.now();
    if (now >= this.#bucketReadAt + 1_000 || now < this.#bucketReadAt) {
      this.#bucket = this.#deps.services.signer.sign('-', now).expiresAt.getTime();
      this.#bucketReadAt = now;
    }
    return this.#bucket;
  }

  #remember(key: string, entry: CachedAnswer): void {
    const old = this.#answers.get(key);
    if (old) this.#forget(key, old);
    this.#answers.set(key, entry);
    this.#answerBytes += entry.body.length + key.length;
    while (this.#answers.size > MAX_ANSWERS || this.#answerBytes > MAX_ANSWER_BYTES) {
      const [oldestKey, oldest] = this.#answers.entries().next().value as [string, CachedAnswer];
      this.#forget(oldestKey, oldest);
    }
  }

  #forget(key: string, entry: CachedAnswer): void {
    if (this.#answers.get(key) !== entry) return;
    this.#answers.delete(key);
    this.#answerBytes -= entry.body.length + key.length;
  }

  #document(query: string): ParsedDocument | null {
    if (this.#documents.has(query)) return this.#documents.get(query) ?? null;
    let parsed: ParsedDocument | null = null;
    try {
      const document = parse(query, { maxTokens: 4000 });
      const operations = document.definitions.filter(
        (d): d is OperationDefinitionNode => d.kind === 'OperationDefinition',
      );
      const only = operations.length === 1 ? operations[0] : undefined;
      if (only) parsed = { document, operation: only };
    } catch {
      parsed = null;
    }
    if (this.#documents.size >= MAX_DOCUMENTS) this.#documents.clear();
    this.#documents.set(query, parsed);
    return parsed;
  }

  // ---- live updates ----

  async #stream(
    req: IncomingMessage & { tenantId?: string },
    res: ServerResponse,
    params: GraphQLParams,
  ): Promise<boolean> {
    if (!this.#approved.has(params.query)) return false;
    const doc = this.#document(params.query);
    if (doc?.operation.operation !== 'subscription') return false;
    if (params.operationName && doc.operation.name?.value !== params.operationName) return false;
    const [field, ...others] = doc.operation.selectionSet.selections;
    if (others.length > 0 || field?.kind !== 'Field' || field.name.value !== 'backgroundTaskUpdated')
      return false;
    if (field.directives?.length) return false;
    const taskId = idArgument(field, params.variables);
    if (taskId === null) return false;
    const tenantId = req.tenantId ?? '';
    const key = `${tenantId}\u0000${taskId}\u0000${params.operationName ?? ''}\u0000${JSON.stringify(params.variables ?? null)}\u0000${params.query}`;
    let group = this.#groups.get(key);
    if (!group) {
      group = new StreamGroup(key, taskId, tenantId, doc.document, params, this.#deps, (empty) => {
        if (this.#groups.get(key) === empty) this.#groups.delete(key);
      });
      this.#groups.set(key, group);
    }
    const joined = await group.join(req, res);
    // A stream refused, or answered and completed at once (a finished task), left no member.
    group.dropIfEmpty();
    return joined;
  }

  #pingAll(): void {
    for (const group of this.#groups.values()) group.ping();
  }
}

const PING_INTERVAL_MS = 12_000;
const MAX_BODY_BYTES = 16 * 1024;
/** How long a store check of a cached answer's tasks stands (see `#recentlyChecked`). */
const RECHECK_MS = 1_000;
const MAX_DOCUMENTS = 1_000;
const MAX_ANSWERS = 10_000;
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** Yoga's SSE response headers, spelled as Yoga sends them. */
const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  Connection: 'keep-alive',
  'Cache-Control': 'no-cache',
  'Content-Encoding': 'none',
};

const COMPLETE = 'event: complete\ndata:\n\n';

/** What the fast paths need from the composition root. */
export interface FastPathDeps {
  readonly schema: GraphQLSchema;
  readonly services: GatewayServices;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

interface GraphQLParams {
  query: string;
  variables: Record<string, unknown> | null;
  operationName: string | null;
}

interface ParsedDocument {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

interface TaskDep {
  id: string;
  version: number;
}

interface PendingAnswer {
  key: string;
  tenantId: string;
  deps: TaskDep[];
  expiry: number;
  operationName: string;
}

interface CachedAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  deps: TaskDep[];
  expiry: number;
  operationName: string;
  /** graphql_operations_total for this operation, counted on each hit as Yoga would. */
  counter: { inc(): void };
  tenantId: string;
  /** When the store last confirmed the entry's tasks, and the mutation generation then. */
  checkedAt: number;
  checkedGeneration: number;
}

type FastPathRequest = IncomingMessage & { fastPathAnswer?: PendingAnswer };

interface Member {
  res: ServerResponse;
  /** The version of the last task state this stream was sent. */
  version: number;
  unwatch: () => void;
}

/**
 * The streams of one task with one document and one set of variables: each update is executed
 * and serialised once, then written to every member.
 */
class StreamGroup {
  readonly #members = new Set<Member>();
  /** The last update object delivered (one publish reaches every member's listener). */
  #lastTask: Task | null = null;
  #lastSeen: Task | null = null;
  #delivering: Promise<void> = Promise.resolve();
  #lastPayload = '';
  /** Publishes seen, so a member that joined mid-publish can catch up. */
  #seq = 0;
  #pending = 0;

  constructor(
    readonly key: string,
    readonly taskId: string,
    readonly tenantId: string,
    readonly document: DocumentNode,
    readonly params: GraphQLParams,
    readonly deps: FastPathDeps,
    /** Called once the group has no member and no join under way; a later group may reuse the key. */
    readonly onEmpty: (group: StreamGroup) => void,
  ) {}

  async join(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const member: Member = { res, version: -1, unwatch: () => {} };
    // Subscribe before reading the snapshot, as the Yoga resolver does, so nothing falls between.
    member.unwatch = this.deps.services.events.watch(this.taskId, (task) => this.#onTask(task));
    const seqAtJoin = this.#seq;
    this.#pending += 1;
    let current: Task | null;
    try {
      current = await this.deps.services.tasks.get(this.tenantId, this.taskId);
    } catch {
      current = null; // the store did not answer: Yoga takes the request and reports it as usual
    } finally {
      this.#pending -= 1;
    }
    const payload = current ? await this.#payloadFor(current) : null;
    if (!current || payload === null || res.destroyed || req.socket.destroyed) {
      member.unwatch();
      if (current && payload !== null) return true; // the client left meanwhile: nothing to answer
      return false;
    }
    res.writeHead(200, SSE_HEADERS);
    res.write(`:\n\n${payload}`);
    member.version = current.version;
    if (isTerminal(current.state)) {
      member.unwatch();
      res.end(COMPLETE);
      return true;
    }
    if (this.#seq > seqAtJoin && this.#lastTask && this.#lastTask.version >= member.version) {
      res.write(this.#lastPayload);
      member.version = this.#lastTask.version;
      if (isTerminal(this.#lastTask.state)) {
        member.unwatch();
        res.end(COMPLETE);
        return true;
      }
    }
    this.#members.add(member);
    res.once('close', () => this.#leave(member));
    return true;
  }

  ping(): void {
    for (const member of this.#members) if (!member.res.writableEnded) member.res.write(':\n\n');
  }

  dropIfEmpty(): void {
    if (this.#members.size === 0 && this.#pending === 0) this.onEmpty(this);
  }

  #leave(member: Member): void {
    if (!this.#members.delete(member)) return;
    member.unwatch();
    this.dropIfEmpty();
  }

  /** Every member's listener calls this for the same publish; only the first does the work. */
  #onTask(task: Task): void {
    if (task === this.#lastSeen || task.tenantId !== this.tenantId) return;
    this.#lastSeen = task;
    // Resolvers may be asynchronous (a shared queue's position): deliver in publish order.
    this.#delivering = this.#delivering
      .then(() => this.#deliver(task))
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, taskId: task.id }, 'fast-path delivery failed'),
      );
  }

  async #deliver(task: Task): Promise<void> {
    const payload = await this.#payloadFor(task);
    if (payload === null) return;
    this.#lastTask = task;
    this.#lastPayload = payload;
    this.#seq += 1;
    const terminal = isTerminal(task.state);
    // Encoded once, and framed once as an HTTP/1.1 chunk: every stream gets the same bytes.
    const bytes = Buffer.from(terminal ? payload + COMPLETE : payload);
    const framed = terminal ? bytes : chunkFrame(bytes);
    for (const member of this.#members) {
      if (task.version < member.version || member.res.writableEnded) continue;
      member.version = task.version;
      if (terminal) {
        this.#members.delete(member);
        member.unwatch();
        member.res.end(bytes);
      } else if (canWriteFramed(member.res)) {
        // One socket write, without ServerResponse's per-write framing, cork and tick.
        (member.res.socket as Socket).write(framed);
      } else {
        member.res.write(bytes);
      }
    }
    if (terminal) this.dropIfEmpty();
  }

  /** `event: next` with the operation's result for `task`; null if it does not execute cleanly. */
  async #payloadFor(task: Task): Promise<string | null> {
    let result: ExecutionResult;
    try {
      const executed = await execute({
        schema: this.deps.schema,
        document: this.document,
        rootValue: task,
        contextValue: { services: this.deps.services, tenantId: this.tenantId, requestId: '' },
        variableValues: this.params.variables,
        operationName: this.params.operationName,
      });
      result = executed;
    } catch (error) {
      this.deps.logger.error({ err: error, taskId: task.id }, 'fast-path subscription update failed');
      return null;
    }
    if (result.errors?.length) return null;
    return `event: next\ndata: ${JSON.stringify(result)}\n\n`;
  }
}

/** `bytes` as one chunk of a chunked HTTP/1.1 body. */
function chunkFrame(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, CRLF]);
}

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * Whether a pre-framed chunk may go straight to the socket: the response is chunked, its head is
 * out, it owns the socket, and nothing of it is still buffered inside the response (so the order
 * of bytes is kept). Otherwise the caller uses `res.write`.
 */
function canWriteFramed(res: ServerResponse): boolean {
  const internals = res as ServerResponse & { chunkedEncoding?: boolean; outputData?: unknown[] };
  const socket = res.socket as (Socket & { _httpMessage?: unknown }) | null;
  return (
    internals.chunkedEncoding === true &&
    res.headersSent &&
    socket !== null &&
    socket._httpMessage === res &&
    socket.writable &&
    (internals.outputData?.length ?? 0) === 0
  );
}

function idArgument(field: FieldNode, variables: Record<string, unknown> | null): string | null {
  const arg = field.arguments?.find((a) => a.name.value === 'id');
  if (!arg || field.arguments?.length !== 1) return null;
  return idValue(arg.value, variables);
}

function idValue(value: ValueNode, variables: Record<string, unknown> | null): string | null {
  if (value.kind === 'StringValue' || value.kind === 'IntValue') return value.value;
  if (value.kind === 'Variable') {
    const given = variables?.[value.name.value];
    if (typeof given === 'string') return given;
    if (typeof given === 'number' && Number.isInteger(given)) return String(given);
  }
  return null;
}

function paramsFromJson(text: string): GraphQLParams | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  return paramsFrom(body as Record<string, unknown>);
}

function paramsFromSearch(search: URLSearchParams): GraphQLParams | null {
  let variables: unknown = null;
  try {
    const raw = search.get('variables');
    variables = raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
  return paramsFrom({ query: search.get('query'), variables, operationName: search.get('operationName') });
}

function paramsFrom(body: Record<string, unknown> | null): GraphQLParams | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const { query, variables, operationName } = body;
  if (typeof query !== 'string') return null;
  if (
    variables !== undefined &&
    variables !== null &&
    (typeof variables !== 'object' || Array.isArray(variables))
  )
    return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  return {
    query,
    variables: (variables as Record<string, unknown> | null | undefined) ?? null,
    operationName: (operationName as string | null | undefined) ?? null,
  };
}

/** The whole body (announced as `length` bytes), or null when it does not match. */
function readBody(req: IncomingMessage, length: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total <= length) chunks.push(chunk);
    });
    req.once('end', () => {
      if (total !== length) resolve(null);
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    });
    req.once('error', () => resolve(null));
  });
}
