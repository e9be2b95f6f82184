import {
  type DocumentNode,
  execute,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
  parse,
} from 'graphql';
import type { Task } from '../core/model.js';
import type { GatewayServices } from './schema/context.js';

/**
 * A webhook's body is the task as the `BackgroundTask` type shows it, so it is made by the schema
 * itself: a selection of every field of the type (nested objects included, arguments at their
 * defaults) executed with the task as the root value — the way a subscription event is — never a
 * second hand-made shape that could drift from the type. Left out: the deliveries themselves, and
 * any field that needs an argument.
 */

/** Fields a webhook body does not carry: its own delivery log would describe itself. */
const LEFT_OUT: ReadonlySet<string> = new Set(['BackgroundTask.webhookDeliveries']);
/** Nested objects are followed this deep (task → images → …). */
const MAX_DEPTH = 3;

/**
 * Every field of `type` a body carries. A field leading back to a type already on the path is
 * left out (a task's `batch { tasks }` would put the whole batch in every task's body).
 */
function selectionOf(type: GraphQLObjectType, depth: number, path: ReadonlySet<string> = new Set()): string {
  const onPath = new Set([...path, type.name]);
  const fields = Object.values(type.getFields()).filter(
    (field: GraphQLField<unknown, unknown>) =>
      !LEFT_OUT.has(`${type.name}.${field.name}`) &&
      !field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined),
  );
  const parts: string[] = [];
  for (const field of fields) {
    const named = getNamedType(field.type);
    if (isObjectType(named)) {
      if (depth < MAX_DEPTH && !onPath.has(named.name)) {
        parts.push(`${field.name} { ${selectionOf(named, depth + 1, onPath)} }`);
      }
    } else if (isLeafType(named)) {
      parts.push(field.name);
    }
  }
  return parts.join(' ');
}

/** The one document webhook bodies are executed with. */
export function webhookBodyDocument(schema: GraphQLSchema): DocumentNode {
  const type = schema.getType('BackgroundTask') as GraphQLObjectType;
  return parse(
    `subscription WebhookBody($id: ID!) { task: backgroundTaskUpdated(id: $id) { ${selectionOf(type, 1)} } }`,
  );
}

/**
 * Renders tasks for webhook bodies: `task` as the `BackgroundTask` type shows it, resolved with
 * the gateway's services on behalf of the task's tenant (signed result links included).
 */
export function createWebhookRenderer(
  schema: GraphQLSchema,
  services: GatewayServices,
): (task: Task) => Promise<unknown> {
  const document = webhookBodyDocument(schema);
  return async (task) => {
    const result = await execute({
      schema,
      document,
      rootValue: task,
      contextValue: { services, tenantId: task.tenantId, requestId: '' },
      variableValues: { id: task.id },
    });
    if (result.errors?.length || !result.data) {
      throw new Error(`webhook body of task ${task.id}: ${result.errors?.[0]?.message ?? 'no data'}`);
    }
    return result.data.task;
  };
}
