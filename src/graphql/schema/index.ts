import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './task.js';
import './generate.js';
import './scene-types.js';
import './state-counts.js';
import './subscription.js';
import './viewer.js';
import './batch.js';
import './webhooks.js';
import './batch-subscription.js';
import './sessions.js';

builder.queryType({ description: 'Reading tasks and templates.' });
builder.mutationType({ description: 'Creating, cancelling and deleting tasks.' });
builder.subscriptionType({ description: 'Live task updates over SSE.' });

/** The public schema, built once; every transport serves this one object. */
export const schema: GraphQLSchema = builder.toSchema();

/** The schema as committed in schema/schema.graphql: sorted, so diffs show real changes only. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
