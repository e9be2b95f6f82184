// The demo page, built on the client kit: pick a foreground, describe or pick a background, follow
// the task live, compare and download the results, browse recent tasks. Plain browser modules, no
// third-party code, no CDN; scripts/build-kit.ts bundles them into dist/demo/ and points the
// '/kit/gateway-client.js' import at the kit's content-hashed browser bundle.

import { createGatewayClient, GatewayError } from '/kit/gateway-client.js';
import { checkBeforeUpload } from './demo-checks.js';
import { createHistory } from './demo-history.js';
import { createImageInput } from './demo-input.js';
import { showPlaceholders, showResults } from './demo-results.js';

const $ = (id) => document.getElementById(id);
const STAGES = ['UPLOADING', 'QUEUED', 'CUTOUT', 'PROCESSING', 'SUCCEEDED'];
const STEP_WORDS = { GENERATING: 'Generating', STORING: 'Storing the results' };

const client = createGatewayClient({ url: '/graphql', token: () => $('api-key').value.trim() });
const image = createImageInput({
  onChange: (file) => {
    showError('');
    // A JPEG or WebP has no transparency: it can only be used with its background removed.
    if (file && /^image\/(jpeg|webp)$/.test(file.type)) $('remove-background').checked = true;
  },
});
const history = createHistory(client, {
  onOpen: openTask,
  onError: (error) => showError(`Could not load recent tasks: ${explain(error)}`),
});

/** The task being generated: its id (once known) and the controller that stops following it. */
let current = null;

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

/** Refusals whose fix on this page is the “Remove the background first” box. */
const NEEDS_CUTOUT = new Set(['NOT_PNG', 'NOT_TRANSPARENT', 'NO_TRANSPARENT_PIXEL']);

/** One line per problem: the gateway's own message (which says the fix) and its reason. */
function explainProblem({ message, reason }) {
  const tick =
    NEEDS_CUTOUT.has(reason) && !wantsCutout() ? ' On this page: tick “Remove the background first”.' : '';
  return `${message}${tick} (${reason})`;
}

function explain(error) {
  if (error instanceof GatewayError) {
    if (error.code === 'NETWORK_ERROR') return error.message;
    if (error.problems.length > 0) return error.problems.map(explainProblem).join('\n');
    return `${error.message} (${error.reason ?? error.code})`;
  }
  return error?.message ?? String(error);
}

/** Marks the inputs a refusal names (the kit names them as its input does: `image`, `background.prompt`). */
function markFields(fields) {
  if (fields.some((field) => field === 'image' || field.startsWith('image.'))) image.markInvalid();
  if (fields.some((field) => field === 'prompt' || field === 'background.prompt')) {
    $('prompt').setAttribute('aria-invalid', 'true');
  }
}

function secondsUntil(iso) {
  return Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
}

/** The stage list, the progress bar and the status line for a task (or the upload before it). */
function showStatus(task) {
  // The cutout is done before a task is PROCESSING: its step is passed once the state is.
  const stage = task ? task.state : 'UPLOADING';
  $('stages').querySelector('[data-stage="CUTOUT"]').hidden = !(task?.removeBackground ?? wantsCutout());
  const reached = STAGES.indexOf(stage === 'FAILED' || stage === 'CANCELLED' ? 'PROCESSING' : stage);
  for (const item of $('stages').children) {
    const index = STAGES.indexOf(item.dataset.stage);
    item.classList.toggle('done', index < reached || stage === 'SUCCEEDED');
    if (index === reached && stage !== 'SUCCEEDED') item.setAttribute('aria-current', 'step');
    else item.removeAttribute('aria-current');
  }
  $('stages').dataset.state = stage;
  const progress = $('progress');
  progress.hidden = false;
  progress.value = task?.progress ?? 0;
  let words = 'Uploading…';
  if (task?.state === 'QUEUED') {
    words = task.stage === 'CUTOUT' ? 'Queued for background removal' : 'Queued';
    if (task.queuePosition) words += `, position ${task.queuePosition}`;
    if (task.estimatedStartAt) words += `, starts in about ${secondsUntil(task.estimatedStartAt)} s`;
  } else if (task?.state === 'PROCESSING' && STEP_WORDS[task.stage]) {
    words = `${STEP_WORDS[task.stage]}, ${task.progress}%`;
  } else if (task) {
    words = `${task.state.charAt(0)}${task.state.slice(1).toLowerCase()}, ${task.progress}%`;
  }
  $('status').textContent = words;
}

function wantsCutout() {
  return $('remove-background').checked;
}

function busy(running) {
  $('submit').disabled = running;
  $('submit').textContent = running ? 'Generating…' : 'Generate';
  $('cancel').hidden = !running;
  $('output-title').parentElement.setAttribute('aria-busy', String(running));
}

function backgroundChoice() {
  const scene = document.querySelector('input[name="scene"]:checked')?.value ?? '';
  if (scene) return { sceneType: Number(scene) };
  const prompt = $('prompt').value.trim();
  return prompt ? { prompt } : null;
}

function finish(task, foregroundUrl) {
  showStatus(task);
  if (task.state === 'SUCCEEDED') {
    showResults($('results'), task.images, foregroundUrl);
  } else if (task.state === 'FAILED') {
    $('results').replaceChildren();
    showError(
      `The task failed: ${task.error?.message ?? 'no reason given'} (${task.error?.code ?? 'UNKNOWN'})`,
    );
  } else {
    $('results').replaceChildren();
    $('status').textContent = 'Cancelled.';
  }
}

async function onSubmit(event) {
  event.preventDefault();
  showError('');
  const source = image.source();
  const background = backgroundChoice();
  if (!source) {
    image.markInvalid();
    return showError(
      'Choose a PNG with a transparent background (or a photo, with “Remove the background first”): drop it, paste it, or give its URL.',
    );
  }
  if (!background) {
    $('prompt').focus();
    return showError('Describe the background, or pick a template.');
  }
  $('prompt').removeAttribute('aria-invalid');
  const problems = await checkBeforeUpload({
    file: source instanceof Blob ? source : null,
    removeBackground: wantsCutout(),
    prompt: background.prompt ?? '',
  });
  if (problems.length > 0) {
    markFields(problems.map((problem) => problem.field));
    return showError(problems.map(explainProblem).join('\n'));
  }
  const batchSize = Number(document.querySelector('input[name="batch"]:checked')?.value ?? 2);
  const foregroundUrl = image.previewUrl();
  const run = { controller: new AbortController(), id: null };
  current = run;
  busy(true);
  showPlaceholders($('results'), batchSize, 'Generating variant');
  showStatus(null);
  // On a phone the results panel is below the form: bring it into view.
  if (matchMedia('(max-width: 52rem)').matches) $('output-title').scrollIntoView({ block: 'start' });
  try {
    const task = await client.generate(
      { image: source, background, batchSize, removeBackground: wantsCutout() },
      {
        signal: run.controller.signal,
        onUpdate: (update) => {
          run.id = update.id;
          showStatus(update);
        },
      },
    );
    finish(task, foregroundUrl);
  } catch (error) {
    if (run.controller.signal.aborted) return;
    if (error instanceof GatewayError) markFields(error.problems.map((problem) => problem.field));
    $('progress').hidden = true;
    $('status').textContent = '';
    $('results').replaceChildren();
    showError(explain(error));
  } finally {
    if (current === run) {
      busy(false);
      current = null;
    }
    history.refresh();
  }
}

async function onCancel() {
  if (!current?.id) return;
  try {
    await client.cancel(current.id);
  } catch (error) {
    showError(`Could not cancel: ${explain(error)}`);
  }
}

/** Shows a task from the history: its results (without sliders: the page no longer has its foreground). */
function openTask(task) {
  showError('');
  finish(task, null);
  $('output-title').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function loadTemplates() {
  const list = $('templates');
  try {
    const scenes = await client.sceneTypes();
    const none = list.firstElementChild;
    const chips = scenes.map((scene) => {
      const label = document.createElement('label');
      label.className = 'chip';
      if (scene.description) label.title = scene.description;
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'scene';
      input.value = String(scene.id);
      const name = document.createElement('span');
      name.textContent = scene.name;
      label.append(input, name);
      return label;
    });
    list.replaceChildren(none, ...chips);
    showError('');
    return true;
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'UNAUTHENTICATED') {
      $('key-section').open = true;
      showError(`${error.message} Templates and recent tasks load once a valid session token is entered.`);
    } else {
      showError(`Could not load templates: ${explain(error)}`);
    }
    return false;
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

async function loadGatewayData() {
  if (await loadTemplates()) await history.refresh();
}

$('generate-form').addEventListener('submit', onSubmit);
$('cancel').addEventListener('click', onCancel);
$('prompt').addEventListener('input', () => {
  $('prompt').removeAttribute('aria-invalid');
  // Typing a description means "use it": the template choice goes back to None.
  if ($('prompt').value.trim()) document.querySelector('input[name="scene"][value=""]').checked = true;
});
$('api-key').addEventListener('change', loadGatewayData);
await Promise.all([loadAbout(), loadGatewayData()]);
document.body.dataset.ready = 'true';
