import { type FieldNode, type GraphQLObjectType, type OperationDefinitionNode, visit } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../../src/graphql/schema/index.js';
import { webhookBodyDocument } from '../../../src/graphql/webhook-body.js';

/** The webhook body's selection is made from the schema (src/graphql/webhook-body.ts), so it cannot drift. */

function taskSelection(): readonly FieldNode[] {
  const operation = webhookBodyDocument(schema).definitions[0] as OperationDefinitionNode;
  const root = operation.selectionSet.selections[0] as FieldNode;
  return (root.selectionSet?.selections ?? []) as FieldNode[];
}

describe('webhook body selection', () => {
  it('selects every field of BackgroundTask except its own deliveries', () => {
    const type = schema.getType('BackgroundTask') as GraphQLObjectType;
    const expected = Object.keys(type.getFields()).filter((name) => name !== 'webhookDeliveries');
    expect(
      taskSelection()
        .map((field) => field.name.value)
        .sort(),
    ).toEqual(expected.sort());
  });

  it('never selects a task inside the task (a batch carries its counts, not its tasks)', () => {
    const names: string[] = [];
    visit(webhookBodyDocument(schema), {
      Field(node) {
        names.push(node.name.value);
      },
    });
    expect(names).toContain('batch');
    expect(names).toContain('counts');
    expect(names).not.toContain('tasks');
    expect(names).not.toContain('webhookDeliveries');
  });
});
