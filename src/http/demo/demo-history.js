// The tenant's recent tasks (`backgroundTasks`), newest first, with a thumbnail of the first
// result; choosing one shows its results in the results panel.

const STATE_WORDS = {
  QUEUED: 'Queued',
  PROCESSING: 'Generating',
  SUCCEEDED: 'Done',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function describe(task) {
  if (task.prompt) return task.prompt;
  if (task.sceneType !== null && task.sceneType !== undefined) return `Template ${task.sceneType}`;
  return 'Background';
}

function item(task, onOpen) {
  const li = document.createElement('li');
  li.dataset.taskId = task.id;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'history-item';
  const thumb = task.images[0];
  const figure = document.createElement('span');
  figure.className = 'thumb';
  if (thumb) {
    const img = document.createElement('img');
    img.src = thumb.url;
    img.alt = '';
    img.loading = 'lazy';
    figure.append(img);
  } else {
    figure.textContent = STATE_WORDS[task.state]?.[0] ?? '?';
    figure.setAttribute('aria-hidden', 'true');
  }
  const words = document.createElement('span');
  words.className = 'history-words';
  const title = document.createElement('span');
  title.className = 'history-title';
  title.textContent = describe(task);
  const meta = document.createElement('span');
  meta.className = 'history-meta';
  const badge = document.createElement('span');
  badge.className = `badge badge-${task.state.toLowerCase()}`;
  badge.textContent = STATE_WORDS[task.state] ?? task.state;
  const variants = task.batchSize === 1 ? '1 variant' : `${task.batchSize} variants`;
  meta.append(badge, ` ${time.format(new Date(task.createdAt))} · ${variants}`);
  button.title = describe(task);
  words.append(title, meta);
  button.append(figure, words);
  button.addEventListener('click', () => onOpen(task));
  li.append(button);
  return li;
}

/** Loads and shows the recent tasks; returns `refresh()` (errors go to `onError`). */
export function createHistory(client, { onOpen, onError }) {
  const list = document.getElementById('history');
  const empty = document.getElementById('history-empty');
  async function refresh() {
    try {
      const page = await client.tasks({ first: 12 });
      list.replaceChildren(...page.tasks.map((task) => item(task, onOpen)));
      empty.hidden = page.tasks.length > 0;
    } catch (error) {
      onError(error);
    }
  }
  document.getElementById('refresh-history').addEventListener('click', refresh);
  return { refresh };
}
