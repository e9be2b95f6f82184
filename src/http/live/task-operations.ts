import {
  BREAK,
  type DocumentNode,
  type FieldNode,
  getOperationAST,
  type OperationDefinitionNode,
  type ValueNode,
  visit,
} from 'graphql';
import { batchIdArgument } from '../../graphql/schema/batch.js';
import type { BatchStreamSpec } from './batch-group.js';
import { callerKey, type StreamCaller } from './caller.js';
import type { StreamSpec } from './stream-group.js';

/** What an operation is, as far as the live routes care; anything else is Yoga's alone. */
interface Operation {
  readonly document: DocumentNode;
  readonly variables: Record<string, unknown> | null;
  readonly operationName: string | null;
}

/**
 * The hub's spec for a subscription whose only root field is `backgroundTaskUpdated(id:)` or
 * `backgroundBatchUpdated(id:)` with a literal or variable id and no directives; null for any
 * other operation. The key holds what makes two subscriptions see the same events.
 */
export function streamSpec(
  operation: Operation & {
    readonly caller: StreamCaller;
    readonly query: string;
    /** Appended to the key: a unique one per subscriber keeps every group to one (no sharing). */
    readonly unshared?: string;
  },
): StreamSpec | BatchStreamSpec | null {
  const definition = soleOperation(operation);
  if (definition?.operation !== 'subscription') return null;
  const [field, ...others] = definition.selectionSet.selections;
  if (others.length > 0 || field?.kind !== 'Field' || !STREAM_FIELDS.has(field.name.value)) return null;
  if (field.directives?.length || definition.directives?.length) return null;
  const id = idArgument(field, operation.variables);
  if (id === null) return null;
  const { caller, query, document, variables, operationName } = operation;
  // Keyed by the operation's own name: naming the sole operation or not asks the same thing.
  const named = definition.name?.value ?? '';
  const parts = [callerKey(caller), field.name.value, id, named, JSON.stringify(variables ?? null), query];
  const key = (operation.unshared === undefined ? parts : [...parts, operation.unshared]).join('\u0000');
  const spec = { key, caller, query, document, variables, operationName };
  if (field.name.value === 'backgroundTaskUpdated') return { ...spec, taskId: id };
  let batchId: string;
  try {
    batchId = batchIdArgument(id);
  } catch {
    // Not a batch id at all: the schema's resolver answers it.
    return null;
  }
  return { ...spec, batchId };
}

const STREAM_FIELDS: ReadonlySet<string> = new Set(['backgroundTaskUpdated', 'backgroundBatchUpdated']);

/**
 * The task ids a query reads when its root fields are only `backgroundTask(id:)` (at most ten);
 * null for any other operation, and for one that selects what changes after a task is final.
 */
export function taskReadIds(operation: Operation): string[] | null {
  const definition = soleOperation(operation);
  if (definition?.operation !== 'query' || definition.directives?.length) return null;
  if (selectsChangingField(operation.document)) return null;
  const fields = definition.selectionSet.selections;
  if (fields.length === 0 || fields.length > 10) return null;
  const ids: string[] = [];
  for (const field of fields) {
    if (field.kind !== 'Field' || field.name.value !== 'backgroundTask' || field.directives?.length)
      return null;
    const id = idArgument(field, operation.variables);
    if (id === null) return null;
    ids.push(id);
  }
  return ids;
}

/**
 * The fields whose value is fixed once a task is final — an allow-list, so that a field added to
 * the schema later is not cached until somebody decides it may be. Left out on purpose: `batch`
 * (its counts and tasks move while the batch's other tasks run or are deleted) and
 * `webhookDeliveries` (tried after the task ended). Result links (`url`, `thumbnailUrl`,
 * `expiresAt`) are re-signed by the cache's own expiry, not by this list.
 */
const FIXED_ONCE_FINAL: ReadonlySet<string> = new Set([
  '__typename',
  'backgroundTask',
  // BackgroundTask
  'batchSize',
  'completedAt',
  'createdAt',
  'creditsCharged',
  'error',
  'estimatedCredits',
  'estimatedStartAt',
  'id',
  'images',
  'negativePrompt',
  'processedAt',
  'progress',
  'priority',
  'prompt',
  'queuePosition',
  'removeBackground',
  'sceneType',
  'stage',
  'state',
  'stateDetail',
  'timeElapsedMs',
  'upstreamState',
  'upstreamTaskId',
  // GeneratedImage
  'bytes',
  'contentType',
  'expiresAt',
  'height',
  'thumbnailUrl',
  'url',
  'width',
  // TaskError
  'code',
  'message',
]);

/** Whether the document (fragments included) selects any field outside FIXED_ONCE_FINAL. */
function selectsChangingField(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (FIXED_ONCE_FINAL.has(node.name.value)) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

function soleOperation(operation: Operation): OperationDefinitionNode | null {
  const operations = operation.document.definitions.filter((d) => d.kind === 'OperationDefinition');
  if (operations.length !== 1) return null;
  return getOperationAST(operation.document, operation.operationName) ?? null;
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
