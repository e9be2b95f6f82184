import type { Plugin } from 'graphql-yoga';

/**
 * Answers a request whose `Accept` allows none of the media types Yoga can answer with 406 and a
 * GraphQL-shaped error that names them (`extensions.accept`). Yoga's own 406 has an empty body,
 * which clients report as a bare "Received status code 406". Its `onResultProcess` must run after
 * Yoga's result processors, which Yoga installs before any configured plugin.
 */
export function useNotAcceptable(): Plugin {
  return {
    onResultProcess: ({ request, resultProcessor, acceptableMediaTypes, setResultProcessor }) => {
      if (resultProcessor) return;
      const accept = [...new Set(acceptableMediaTypes)];
      const asked = (request.headers.get('accept') ?? '').slice(0, 100);
      setResultProcessor(
        (_result, fetchAPI) =>
          new fetchAPI.Response(
            JSON.stringify({
              errors: [
                {
                  message: `Cannot answer with what Accept "${asked}" allows: accept one of ${accept.join(', ')}.`,
                  extensions: { code: 'NOT_ACCEPTABLE', accept },
                },
              ],
            }),
            { status: 406, headers: { 'content-type': 'application/json; charset=utf-8' } },
          ),
        'application/json',
      );
    },
  };
}
