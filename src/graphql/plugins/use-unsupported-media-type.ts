import type { Plugin } from 'graphql-yoga';

/**
 * Answers a request whose content type Yoga has no parser for (say `application/xml`) with 415
 * and a GraphQL-shaped error, as every other refusal is shaped. Yoga's own 415 has an empty body,
 * which clients that parse every answer as JSON (Apollo, urql) report as a network error. It must
 * come after Yoga's own request parsers, which Yoga installs before any configured plugin.
 */
export function useUnsupportedMediaType(): Plugin {
  return {
    onRequestParse: ({ request, requestParser, endResponse, fetchAPI }) => {
      // Other methods get Yoga's 405 (already GraphQL-shaped); GET always has a parser.
      if (requestParser || request.method !== 'POST') return;
      const type = request.headers.get('content-type') ?? 'none';
      const body = JSON.stringify({
        errors: [
          {
            message: `Unsupported content type "${type.slice(0, 100)}": send application/json, or multipart/form-data for uploads.`,
            extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' },
          },
        ],
      });
      endResponse(
        new fetchAPI.Response(body, {
          status: 415,
          headers: { 'content-type': 'application/graphql-response+json; charset=utf-8' },
        }),
      );
    },
  };
}
