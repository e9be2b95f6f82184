import {
  type ASTNode,
  type DocumentNode,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
  Kind,
  TypeInfo,
  typeFromAST,
  type ValueNode,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../core/errors.js';
import { toGraphQLError } from './schema/errors.js';

/**
 * graphql-js enforces `@oneOf` input objects itself (exactly one key, and not null), for literals
 * while validating and for variables while coercing them; its errors name no input path and carry
 * GRAPHQL_VALIDATION_FAILED or no code at all. This plugin is the one place that turns exactly
 * those errors into the gateway's BAD_USER_INPUT with reason ONE_OF_VIOLATION and `field` — the
 * path of the offending object inside the operation's arguments, e.g. `input.image` — so a client
 * sees the same error whether it wrote the input inline or sent it as variables.
 *
 * Any other variable that cannot be coerced (wrong type, required but missing or null) gets
 * BAD_USER_INPUT with reason INVALID_VARIABLE and the same kind of `field`, keeping graphql-js's
 * precise message; graphql-js gives those no code at all. All other errors pass through untouched.
 */
export function useOneOfInputErrors(schema: GraphQLSchema): Plugin {
  return {
    onValidate: ({ params }) => {
      const document = params.documentAST;
      return ({ valid, result, setResult }) => {
        if (valid || !result.some(isOneOfValidationError)) return;
        setResult(
          result.map((error) =>
            isOneOfValidationError(error) ? fromValidation(error, document, schema) : error,
          ),
        );
      };
    },
    onExecute: () => ({
      onExecuteDone: ({ args, result, setResult }) => {
        const rewritten = rewriteResult(result, args, schema);
        if (rewritten) setResult(rewritten);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ args, result, setResult }) => {
        const rewritten = rewriteResult(result, args, schema);
        if (rewritten) setResult(rewritten);
      },
    }),
  };
}

const EXACTLY_ONE_LITERAL = /^OneOf Input Object "(\w+)" must specify exactly one key\.$/;
const NULL_LITERAL = /^Field "(\w+)\.(\w+)" must be non-null\.$/;
const NULLABLE_VARIABLE = /must be non-nullable to be used for OneOf Input Object "(\w+)"\.$/;
const EXACTLY_ONE_VARIABLE = /^Exactly one key must be specified for OneOf type "(\w+)"\.$/;
/** Only graphql-js's oneOf coercion says this; a missing required field reads differently. */
const NULL_VARIABLE = /^Field "(\w+)" must be non-null\.$/;

function isOneOfValidationError(error: unknown): error is GraphQLError {
  if (!(error instanceof GraphQLError) || error.extensions?.reason === 'ONE_OF_VIOLATION') return false;
  return (
    EXACTLY_ONE_LITERAL.test(error.message) ||
    NULL_LITERAL.test(error.message) ||
    NULLABLE_VARIABLE.test(error.message)
  );
}

function isOneOfCoercionError(error: GraphQLError): boolean {
  if (error.extensions?.reason === 'ONE_OF_VIOLATION') return false;
  const inner = error.originalError?.message ?? '';
  return (
    error.message.startsWith('Variable "$') && (EXACTLY_ONE_VARIABLE.test(inner) || NULL_VARIABLE.test(inner))
  );
}

/** graphql-js's answer when a oneOf field is fed a nullable variable that turned out null or absent. */
const INVALID_ARGUMENT = /^Argument "\w+" has invalid value /;

interface OperationArgs {
  readonly document: DocumentNode;
  readonly variableValues?: { readonly [name: string]: unknown } | null;
}

/** The result with its oneOf errors rewritten, or null when it has none. */
function rewriteResult<R>(result: R, args: OperationArgs, schema: GraphQLSchema): R | null {
  if (typeof result !== 'object' || result === null || Symbol.asyncIterator in result) return null;
  const errors = (result as { errors?: readonly GraphQLError[] }).errors;
  if (!errors || errors.length === 0) return null;
  let changed = false;
  const mapped = errors.map((error) => {
    const next = rewriteExecutionError(error, args, schema);
    changed ||= next !== error;
    return next;
  });
  return changed ? { ...result, errors: mapped } : null;
}

function rewriteExecutionError(
  error: GraphQLError,
  args: OperationArgs,
  schema: GraphQLSchema,
): GraphQLError {
  if (isOneOfCoercionError(error)) return rewriteCoercion(error, args.document, schema);
  if (isVariableError(error)) return invalidVariable(error, args.document);
  if (!INVALID_ARGUMENT.test(error.message)) return error;
  const found = findOneOfViolation(args.document, schema, args.variableValues ?? {});
  return found ? oneOfError(error, found.path, found.typeName, schema) : error;
}

/** A request-level error from coercing variables (it has no response path), not yet rewritten. */
function isVariableError(error: GraphQLError): boolean {
  return error.path === undefined && VARIABLE.test(error.message) && error.extensions?.reason === undefined;
}

const VARIABLE = /^Variable "\$(\w+)"/;

/** Where the bad variable value sits in the arguments: where the variable is used, then inside it. */
function variableField(error: GraphQLError, document: DocumentNode): string[] {
  const variable = VARIABLE.exec(error.message)?.[1] ?? '';
  return [...(variableUsagePath(document, variable) ?? [variable]), ...pathInVariable(error)];
}

function invalidVariable(error: GraphQLError, document: DocumentNode): GraphQLError {
  const mapped = toGraphQLError(badInput('INVALID_VARIABLE', variableField(error, document), error.message));
  return new GraphQLError(mapped.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...mapped.extensions, http: error.extensions.http ?? { status: 400 } },
  });
}

/**
 * Re-checks every oneOf object literal in the document with the variables' values in place: a
 * field holding a null or absent variable counts as not given.
 */
function findOneOfViolation(
  document: DocumentNode,
  schema: GraphQLSchema,
  variables: { readonly [name: string]: unknown },
): { path: string[]; typeName: string } | null {
  const typeInfo = new TypeInfo(schema);
  let found: { path: string[]; typeName: string } | null = null;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      ObjectValue(node) {
        if (found) return false;
        const type = getNamedType(typeInfo.getInputType());
        if (!isInputObjectType(type) || !type.isOneOf) return undefined;
        const given = node.fields.filter(({ value }) =>
          value.kind === Kind.VARIABLE
            ? variables[value.name.value] !== undefined && variables[value.name.value] !== null
            : value.kind !== Kind.NULL,
        );
        if (given.length !== 1) found = { path: argumentPathOf(document, node) ?? [], typeName: type.name };
        return undefined;
      },
    }),
  );
  return found;
}

/** A literal oneOf object (or a nullable variable inside one) found during validation. */
function fromValidation(error: GraphQLError, document: DocumentNode, schema: GraphQLSchema): GraphQLError {
  const typeName =
    EXACTLY_ONE_LITERAL.exec(error.message)?.[1] ??
    NULL_LITERAL.exec(error.message)?.[1] ??
    NULLABLE_VARIABLE.exec(error.message)?.[1] ??
    '';
  let field: string[] = [];
  for (const node of error.nodes ?? []) {
    const path = argumentPathOf(document, node);
    if (!path) continue;
    // A variable sits in one of the object's fields; the violation is the object's.
    field = node.kind === Kind.VARIABLE ? path.slice(0, -1) : path;
    break;
  }
  return oneOfError(error, field, typeName, schema);
}

/** A variable value that broke a oneOf rule, found while coercing variables. */
function rewriteCoercion(error: GraphQLError, document: DocumentNode, schema: GraphQLSchema): GraphQLError {
  if (!isOneOfCoercionError(error)) return error;
  const inner = error.originalError?.message ?? '';
  const variable = /^Variable "\$(\w+)"/.exec(error.message)?.[1] ?? '';
  const inVariable = pathInVariable(error);
  const exactlyOne = EXACTLY_ONE_VARIABLE.exec(inner);
  // "Field "url" must be non-null" points at the key; the violation is its object's.
  const objectPath = exactlyOne ? inVariable : inVariable.slice(0, -1);
  const usage = variableUsagePath(document, variable) ?? [variable];
  const typeName = exactlyOne?.[1] ?? inputTypeAt(schema, document, variable, objectPath)?.name ?? '';
  return oneOfError(error, [...usage, ...objectPath], typeName, schema);
}

/** The named input type at `path` inside the value of `$variable`. */
function inputTypeAt(
  schema: GraphQLSchema,
  document: DocumentNode,
  variable: string,
  path: readonly string[],
): GraphQLNamedType | undefined {
  let definition: Parameters<typeof typeFromAST>[1] | undefined;
  visit(document, {
    VariableDefinition(node) {
      if (node.variable.name.value === variable) definition ??= node.type;
    },
  });
  let type = definition ? getNamedType(typeFromAST(schema, definition)) : undefined;
  for (const key of path) {
    if (/^\d+$/.test(key)) continue;
    type = isInputObjectType(type) ? getNamedType(type.getFields()[key]?.type) : undefined;
  }
  return type;
}

function oneOfError(original: GraphQLError, field: string[], typeName: string, schema: GraphQLSchema) {
  const type = schema.getType(typeName);
  const keys = isInputObjectType(type) ? Object.keys(type.getFields()) : [];
  const where = field.length > 0 ? field.join('.') : 'the input';
  const message =
    keys.length > 0
      ? `${where} takes exactly one of ${keys.join(', ')}, and it must not be null.`
      : `${where} takes exactly one of its fields, and it must not be null.`;
  const mapped = toGraphQLError(badInput('ONE_OF_VIOLATION', field, message));
  return new GraphQLError(mapped.message, {
    nodes: original.nodes,
    source: original.source,
    positions: original.positions,
    path: original.path,
    // A request error (validation, variables) keeps its HTTP status; an execution error has none.
    extensions: {
      ...mapped.extensions,
      ...(original.extensions.http ? { http: original.extensions.http } : {}),
    },
  });
}

/**
 * The path inside the variable's value that graphql-js names in `Variable "$v" got invalid value
 * <value> at "v.image.url"; <reason>`. The reason is cut off first, so text inside the echoed
 * value cannot pass for the path.
 */
function pathInVariable(error: GraphQLError): string[] {
  const reason = error.originalError?.message;
  const head =
    reason && error.message.endsWith(`; ${reason}`)
      ? error.message.slice(0, -(reason.length + 2))
      : error.message;
  const at = / at "([^"]*)"$/.exec(head)?.[1];
  // `at` reads like `input.image.url` or `list[0].x`, starting with the variable's name.
  return at ? splitPath(at).slice(1) : [];
}

function splitPath(printed: string): string[] {
  return printed
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((part) => part !== '');
}

/** Where `target` sits inside some field argument: the argument's name, then object keys and list indexes. */
function argumentPathOf(document: DocumentNode, target: ASTNode): string[] | null {
  let found: string[] | null = null;
  visit(document, {
    Argument(node) {
      if (found) return false;
      found = findInValue(node.value, target, [node.name.value]);
      return false;
    },
  });
  return found;
}

/** The argument path of the first use of `$variable` in the document. */
function variableUsagePath(document: DocumentNode, variable: string): string[] | null {
  let found: string[] | null = null;
  visit(document, {
    Argument(node) {
      if (found) return false;
      found = findInValue(
        node.value,
        (candidate) => candidate.kind === Kind.VARIABLE && candidate.name.value === variable,
        [node.name.value],
      );
      return false;
    },
  });
  return found;
}

function findInValue(
  value: ValueNode,
  target: ASTNode | ((node: ValueNode) => boolean),
  path: string[],
): string[] | null {
  if (typeof target === 'function' ? target(value) : value === target) return path;
  if (value.kind === Kind.OBJECT) {
    for (const field of value.fields) {
      const found = findInValue(field.value, target, [...path, field.name.value]);
      if (found) return found;
    }
  }
  if (value.kind === Kind.LIST) {
    for (const [index, item] of value.values.entries()) {
      const found = findInValue(item, target, [...path, String(index)]);
      if (found) return found;
    }
  }
  return null;
}
