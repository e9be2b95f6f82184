import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useAnswerSizeLimit } from '../../../../src/graphql/plugins/use-answer-size-limit.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** useAnswerSizeLimit on its own: `echo` answers its arguments, so a long name makes a long answer. */
const ECHO = 'query($name: String) { echo(filter: { name: $name }) }';

let server: Awaited<ReturnType<typeof servePlugins>>;
beforeAll(async () => {
  server = await servePlugins([useAnswerSizeLimit({ maxOperationBytes: 1_000, maxRequestBytes: 1_500 })], {
    batching: true,
  });
});
afterAll(() => server?.close());

describe('useAnswerSizeLimit', () => {
  it('sends an answer within the limit and replaces one over it with ANSWER_TOO_LARGE', async () => {
    const small = await postOperation(server.url, ECHO, { name: 'x'.repeat(100) });
    expect(small.body.errors).toBeUndefined();
    const large = await postOperation(server.url, ECHO, { name: 'x'.repeat(2_000) });
    expect(large.body.data).toBeUndefined();
    expect(large.body.errors?.[0]?.extensions).toMatchObject({ code: 'ANSWER_TOO_LARGE', maxBytes: 1_000 });
    expect(large.body.errors?.[0]?.extensions?.bytes).toBeGreaterThan(2_000);
    expect(large.body.errors?.[0]?.message).toMatch(/over the limit of .* per operation: ask for fewer/);
  });

  it('adds up the answers of a batched request and replaces those past the request limit', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify(
        Array.from({ length: 3 }, () => ({ query: ECHO, variables: { name: 'x'.repeat(600) } })),
      ),
    });
    const answers = (await response.json()) as { errors?: { extensions?: Record<string, unknown> }[] }[];
    // Each answer takes about 650 bytes: two fit in the request's 1,500, the third does not.
    expect(answers.map((answer) => answer.errors?.[0]?.extensions?.code ?? 'ok')).toEqual([
      'ok',
      'ok',
      'ANSWER_TOO_LARGE',
    ]);
  });
});
