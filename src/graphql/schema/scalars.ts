import { GraphQLError, Kind } from 'graphql';
import { GraphQLUpload } from 'graphql-upload-minimal';
import { builder } from './builder.js';

builder.scalarType('DateTime', {
  description: 'A moment in time as an ISO-8601 string in UTC, e.g. "2026-11-25T16:20:00.000Z".',
  serialize: (value) => new Date(value).toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string.');
    return date;
  },
  parseLiteral: (ast) => {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : null;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string.');
    return date;
  },
});

builder.addScalarType('Upload', GraphQLUpload, {
  description:
    'A file sent as part of a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec).',
});
