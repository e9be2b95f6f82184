import { describe } from 'vitest';
import { GENERATE_INPUT } from '../support/fixtures.js';
import { badInput, expectRefused, generateFromUrl, refusalTest, URL, upload } from './input-refusals.js';

/** Inputs of the wrong shape are refused with their path: ONE_OF_VIOLATION for the exactly-one rule, INVALID_VARIABLE for variables that cannot be coerced. */

const it = refusalTest();

describe('the exactly-one rule gives ONE_OF_VIOLATION with the path, for literals, variables and uploads alike', () => {
  const oneOf = (field: string) => badInput('ONE_OF_VIOLATION', field);

  it('refuses a literal image whose keys are all null (null counts as not given)', async ({ stack }) => {
    const answer = await stack.gql(
      'mutation { generateBackground(input: { image: { url: null, file: null }, background: { prompt: "x" } }) { id } }',
    );
    await expectRefused(stack, answer, { ...oneOf('input.image'), status: 200 });
  });

  it('refuses a literal background with neither prompt nor sceneType', async ({ stack }) => {
    const answer = await stack.gql(
      `mutation { generateBackground(input: { image: { url: "${URL}" }, background: {} }) { id } }`,
    );
    await expectRefused(stack, answer, { ...oneOf('input.background'), status: 200 });
  });

  it('refuses a literal background with both prompt and sceneType', async ({ stack }) => {
    const answer = await stack.gql(
      `mutation { generateBackground(input: { image: { url: "${URL}" }, background: { prompt: "x", sceneType: 2 } }) { id } }`,
    );
    await expectRefused(stack, answer, { ...oneOf('input.background'), status: 200 });
  });

  it('refuses a literal image whose only key is null', async ({ stack }) => {
    const answer = await stack.gql(
      'mutation { generateBackground(input: { image: { url: null }, background: { prompt: "x" } }) { id } }',
    );
    await expectRefused(stack, answer, oneOf('input.image'));
  });

  it('refuses variables with both prompt and sceneType', async ({ stack }) => {
    await expectRefused(stack, await generateFromUrl(stack, { background: { prompt: 'x', sceneType: 2 } }), {
      ...oneOf('input.background'),
      status: 200,
    });
  });

  it('names the right path even when the refused value quotes a path of its own', async ({ stack }) => {
    await expectRefused(
      stack,
      await generateFromUrl(stack, { background: { prompt: 'a at "input.elsewhere"; b', sceneType: 2 } }),
      oneOf('input.background'),
    );
  });

  it('refuses variables with an empty image', async ({ stack }) => {
    await expectRefused(stack, await generateFromUrl(stack, { image: {} }), oneOf('input.image'));
  });

  it('refuses variables whose only image key is null', async ({ stack }) => {
    await expectRefused(stack, await generateFromUrl(stack, { image: { url: null } }), oneOf('input.image'));
  });

  it('refuses a BackgroundSpec variable of its own that is empty, naming where it is used', async ({
    stack,
  }) => {
    const answer = await stack.gql(
      `mutation($background: BackgroundSpec!) { generateBackground(input: { image: { url: "${URL}" }, background: $background }) { id } }`,
      { background: {} },
    );
    await expectRefused(stack, answer, oneOf('input.background'));
  });

  it('refuses a nullable variable that is null as the only key of a literal image', async ({ stack }) => {
    const answer = await stack.gql(
      'mutation($url: String) { generateBackground(input: { image: { url: $url }, background: { prompt: "x" } }) { id } }',
      { url: null },
    );
    await expectRefused(stack, answer, oneOf('input.image'));
  });

  it('refuses an upload and a url together in a multipart request', async ({ stack, good }) => {
    await expectRefused(
      stack,
      await upload(stack, good, { image: { file: null, url: URL } }),
      oneOf('input.image'),
    );
  });
});

describe('other variables that cannot be coerced get INVALID_VARIABLE with the path', () => {
  it('refuses a batchSize variable that is not an integer', async ({ stack }) => {
    await expectRefused(stack, await generateFromUrl(stack, { batchSize: 'two' }), {
      ...badInput('INVALID_VARIABLE', 'input.batchSize'),
      status: 400,
    });
  });

  it('refuses a prompt variable that is not a string', async ({ stack }) => {
    await expectRefused(stack, await generateFromUrl(stack, { background: { prompt: 42 } }), {
      ...badInput('INVALID_VARIABLE', 'input.background.prompt'),
      status: 400,
    });
  });

  it('refuses a required variable that was not sent, naming the argument', async ({ stack }) => {
    await expectRefused(stack, await stack.gql(GENERATE_INPUT, {}), {
      ...badInput('INVALID_VARIABLE', 'input'),
      status: 400,
    });
  });

  it('refuses a file variable sent as a string in a JSON request', async ({ stack }) => {
    await expectRefused(stack, await generateFromUrl(stack, { image: { file: 'foreground.png' } }), {
      ...badInput('INVALID_VARIABLE', 'input.image.file'),
      status: 400,
    });
  });

  it('refuses an input with a field the schema does not have', async ({ stack }) => {
    await expectRefused(stack, await generateFromUrl(stack, { colour: 'red' }), {
      ...badInput('INVALID_VARIABLE', 'input'),
      status: 400,
    });
  });
});
