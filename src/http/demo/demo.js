// The demo page: upload a transparent PNG with the GraphQL multipart request spec, follow the
// task over SSE, show the results. Plain browser JavaScript, no build step, no third-party code.

const FINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const MAX_RECONNECTS = 3;

const $ = (id) => document.getElementById(id);

/** The operations document, loaded once from /demo.graphql; requests pick one by name. */
let operations = '';

/** A GraphQL or HTTP failure, with the words to show. */
class GatewayError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code ?? null;
  }
}

function describeErrors(errors) {
  const first = errors[0] ?? {};
  const code = first.extensions?.code;
  return new GatewayError(first.message ?? 'The gateway refused the request.', code);
}

function requestHeaders(extra) {
  const headers = { ...extra };
  const key = $('api-key').value.trim();
  if (key) headers.authorization = `Bearer ${key}`;
  return headers;
}

async function readResult(response) {
  let body;
  try {
    body = await response.json();
  } catch {
    throw new GatewayError(`The gateway answered HTTP ${response.status} without a GraphQL result.`);
  }
  if (Array.isArray(body.errors) && body.errors.length > 0) throw describeErrors(body.errors);
  if (!response.ok || !body.data) throw new GatewayError(`The gateway answered HTTP ${response.status}.`);
  return body.data;
}

async function graphql(operationName, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: requestHeaders({
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    }),
    body: JSON.stringify({ query: operations, operationName, variables }),
  });
  return readResult(response);
}

/** generateBackground with the file as a multipart upload; the preflight header is required. */
async function generate(file, background) {
  const form = new FormData();
  const variables = { input: { image: { file: null }, background, batchSize: 2 } };
  form.append('operations', JSON.stringify({ query: operations, operationName: 'DemoGenerate', variables }));
  form.append('map', JSON.stringify({ 0: ['variables.input.image.file'] }));
  form.append('0', file, file.name);
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: requestHeaders({ 'apollo-require-preflight': 'true' }),
    body: form,
  });
  return (await readResult(response)).generateBackground;
}

/**
 * One SSE stream of backgroundTaskUpdated; calls `onTask` for each update and returns the last
 * task seen (null if none). Throws the first GraphQL error.
 */
async function followOnce(id, onTask) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: requestHeaders({ 'content-type': 'application/json', accept: 'text/event-stream' }),
    body: JSON.stringify({ query: operations, operationName: 'DemoFollow', variables: { id } }),
  });
  if (!response.ok || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    await readResult(response);
    throw new GatewayError(`The gateway answered HTTP ${response.status} instead of an event stream.`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event = parseEvent(block);
      if (event.name === 'complete') return last;
      if (event.name !== 'next' || !event.data) continue;
      const result = JSON.parse(event.data);
      if (Array.isArray(result.errors) && result.errors.length > 0) {
        await reader.cancel();
        throw describeErrors(result.errors);
      }
      last = result.data?.backgroundTaskUpdated ?? last;
      if (last) onTask(last);
    }
  }
  return last;
}

function parseEvent(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  return { name, data: data.join('\n') };
}

/** Follows the task to a final state; a dropped stream is reopened (it starts with a snapshot). */
async function follow(id, onTask) {
  for (let attempt = 0; attempt <= MAX_RECONNECTS; attempt++) {
    const last = await followOnce(id, onTask);
    if (last && FINAL_STATES.has(last.state)) return last;
    await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
  }
  throw new GatewayError('The live connection kept closing before the task finished; try again later.');
}

function showStatus(task) {
  const progress = $('progress');
  progress.hidden = false;
  progress.value = task.progress ?? 0;
  let words = `${task.state.toLowerCase()}, ${task.progress ?? 0}%`;
  if (task.state === 'QUEUED' && task.queuePosition) words = `queued, position ${task.queuePosition}`;
  $('status').textContent = `Task ${task.id}: ${words}`;
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

function showResults(images) {
  const results = $('results');
  results.replaceChildren();
  images.forEach((image, index) => {
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.className = 'result';
    img.src = image.url;
    img.alt = `Generated background ${index + 1}`;
    if (image.width) img.width = image.width;
    if (image.height) img.height = image.height;
    const link = document.createElement('a');
    link.href = image.url;
    link.download = `background-${index + 1}.png`;
    link.textContent = `Download image ${index + 1}${image.width ? ` (${image.width}×${image.height})` : ''}`;
    const caption = document.createElement('figcaption');
    caption.append(link);
    figure.append(img, caption);
    results.append(figure);
  });
}

async function loadTemplates() {
  const select = $('scene-type');
  try {
    const { sceneTypes } = await graphql('DemoTemplates');
    const chosen = select.value;
    select.replaceChildren(select.options[0]);
    for (const scene of sceneTypes) {
      const option = new Option(scene.name, String(scene.id));
      if (scene.description) option.title = scene.description;
      select.append(option);
    }
    select.value = chosen;
    showError('');
  } catch (error) {
    if (error.code === 'UNAUTHENTICATED') {
      $('key-section').open = true;
      showError(`${error.message} Templates load once a valid key is entered.`);
    } else {
      showError(`Could not load templates: ${error.message}`);
    }
  }
}

async function loadAbout() {
  try {
    const about = await (await fetch('/about.json')).json();
    const note = $('engine-note');
    if (about.engine === 'local') {
      note.textContent =
        'This gateway runs on its built-in LOCAL engine: results are simple generated backdrops, not PicWish AI. Set PICWISH_API_KEY on the gateway for real results.';
      note.hidden = false;
    }
    if (about.apiKeyRequired) $('key-section').open = true;
  } catch {
    // The page still works without the labels.
  }
}

async function onSubmit(event) {
  event.preventDefault();
  showError('');
  const file = $('image').files[0];
  const prompt = $('prompt').value.trim();
  const sceneType = $('scene-type').value;
  if (!file) return showError('Choose a PNG file with a transparent background first.');
  if (!sceneType && !prompt) return showError('Describe the background, or pick a template.');
  const background = sceneType ? { sceneType: Number(sceneType) } : { prompt };
  const button = $('submit');
  button.disabled = true;
  $('results').replaceChildren();
  $('status').textContent = 'Uploading…';
  try {
    const created = await generate(file, background);
    showStatus(created);
    const task = await follow(created.id, showStatus);
    if (task.state === 'SUCCEEDED') {
      showResults(task.images);
    } else if (task.state === 'FAILED') {
      showError(
        `The task failed: ${task.error?.message ?? 'no reason given'} (${task.error?.code ?? 'UNKNOWN'})`,
      );
    } else {
      showError('The task was cancelled.');
    }
  } catch (error) {
    const code = error.code ? ` (${error.code})` : '';
    showError(
      error instanceof GatewayError
        ? `${error.message}${code}`
        : `Could not reach the gateway: ${error.message}`,
    );
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const response = await fetch('/demo.graphql');
  operations = await response.text();
  $('generate-form').addEventListener('submit', onSubmit);
  $('api-key').addEventListener('change', loadTemplates);
  await Promise.all([loadAbout(), loadTemplates()]);
  document.body.dataset.ready = 'true';
}

start().catch((error) => showError(`The page could not start: ${error.message}`));
