import {
  coerceInputValue,
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  isInputType,
  Kind,
  print,
  typeFromAST,
  type ValueNode,
  type VariableDefinitionNode,
  visit,
} from 'graphql';
import { Upload } from 'graphql-upload-minimal';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../../core/errors.js';
import { toGraphQLError } from '../schema/errors.js';

/**
 * Variables that cannot be coerced (wrong type, an unknown field, required but missing or null)
 * get BAD_USER_INPUT with reason INVALID_VARIABLE and `field` — where the bad value sits in the
 * operation's arguments, e.g. `input.batchSize` — keeping graphql-js's precise message; graphql-js
 * gives them no code at all. Nothing here reads graphql-js's wording: an error is recognised by its
 * node (the variable's definition) and the path inside the value is found again by coercing the
 * value with graphql-js's own `coerceInputValue`. All other errors pass through untouched.
 */
export function useVariableErrors(): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone: ({ args, result, setResult }) => {
        const rewritten = rewriteResult(result, args);
        if (rewritten) setResult(rewritten);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ args, result, setResult }) => {
        const rewritten = rewriteResult(result, args);
        if (rewritten) setResult(rewritten);
      },
    }),
  };
}

interface OperationArgs {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly variableValues?: { readonly [name: string]: unknown } | null;
}

/** The result with its variable errors rewritten, or null when it has none. */
function rewriteResult<R>(result: R, args: OperationArgs): R | null {
  if (typeof result !== 'object' || result === null || Symbol.asyncIterator in result) return null;
  const errors = (result as { errors?: readonly GraphQLError[] }).errors;
  if (!errors?.some(isVariableError)) return null;
  const paths = new Map<string, (readonly (string | number)[])[]>();
  const mapped = errors.map((error) => {
    if (!isVariableError(error)) return error;
    const definition = error.nodes[0];
    const name = definition.variable.name.value;
    if (!paths.has(name)) paths.set(name, invalidPaths(definition, args));
    // graphql-js reports a variable's problems in the order coercion finds them, as here.
    const inValue = paths.get(name)?.shift() ?? [];
    const field = [...(usagePath(args.document, name) ?? [name]), ...inValue.map(String)];
    // graphql-js would print the value: for a file mapped here, the internal Upload object.
    const message =
      valueAt(args.variableValues?.[name], inValue) instanceof Upload
        ? `Variable "$${name}" got a file (a multipart upload) at ${field.join('.')}, which takes ${print(definition.type)}: map files only onto Upload variables.`
        : error.message;
    const mapped = toGraphQLError(badInput('INVALID_VARIABLE', field, message));
    return new GraphQLError(mapped.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      extensions: { ...mapped.extensions, http: error.extensions.http ?? { status: 400 } },
    });
  });
  return { ...result, errors: mapped };
}

/** An error from coercing a variable: about its definition, outside any field, not yet coded. */
function isVariableError(
  error: GraphQLError,
): error is GraphQLError & { nodes: readonly [VariableDefinitionNode] } {
  return (
    error.path === undefined &&
    error.nodes?.[0]?.kind === Kind.VARIABLE_DEFINITION &&
    error.extensions?.code === undefined
  );
}

/** What sits at `path` inside a variable's value. */
function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}

/** Where coercion fails inside the variable's value, in order; none for a missing or null value. */
function invalidPaths(
  definition: VariableDefinitionNode,
  args: OperationArgs,
): (readonly (string | number)[])[] {
  const value = args.variableValues?.[definition.variable.name.value];
  const type = typeFromAST(args.schema, definition.type);
  if (value === undefined || value === null || !type || !isInputType(type)) return [];
  const paths: (readonly (string | number)[])[] = [];
  coerceInputValue(value, type, (path) => paths.push(path));
  return paths;
}

/** The argument path of the first use of `$variable`: the argument's name, then keys and indexes. */
function usagePath(document: DocumentNode, variable: string): string[] | null {
  let found: string[] | null = null;
  visit(document, {
    Argument(node) {
      if (found) return false;
      found = findVariable(node.value, variable, [node.name.value]);
      return false;
    },
  });
  return found;
}

function findVariable(value: ValueNode, variable: string, path: string[]): string[] | null {
  if (value.kind === Kind.VARIABLE) return value.name.value === variable ? path : null;
  if (value.kind === Kind.OBJECT) {
    for (const field of value.fields) {
      const found = findVariable(field.value, variable, [...path, field.name.value]);
      if (found) return found;
    }
  }
  if (value.kind === Kind.LIST) {
    for (const [index, item] of value.values.entries()) {
      const found = findVariable(item, variable, [...path, String(index)]);
      if (found) return found;
    }
  }
  return null;
}
