// The results: one card per generated image, side by side, each with a before/after slider
// against the foreground (when the page still has it) and download links.

/**
 * The download formats offered for every result: the stored PNG and its WebP rendition (the kit
 * selects `url(format: WEBP)` as `webpUrl`). Another rendition is one more line here.
 */
const DOWNLOADS = [
  { label: 'PNG', extension: 'png', url: (image) => image.url },
  { label: 'WebP', extension: 'webp', url: (image) => image.webpUrl },
];

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** A range input that reveals the foreground over the result from the left up to its value. */
function compareSlider(image, foregroundUrl, index) {
  const result = element('img', {
    class: 'result',
    src: image.url,
    alt: `Generated background ${index + 1}`,
    ...(image.width ? { width: String(image.width), height: String(image.height) } : {}),
  });
  const stage = element('div', { class: 'compare' }, [result]);
  if (!foregroundUrl) return { stage, slider: null };
  const before = element('div', { class: 'before', 'aria-hidden': 'true' }, [
    element('img', { src: foregroundUrl, alt: '' }),
  ]);
  const handle = element('div', { class: 'handle', 'aria-hidden': 'true' });
  stage.append(before, handle);
  const id = `compare-${index}`;
  const range = element('input', {
    id,
    type: 'range',
    min: '0',
    max: '100',
    value: '50',
    class: 'compare-range',
    'aria-label': `Compare variant ${index + 1} with the original`,
  });
  const update = () => {
    stage.style.setProperty('--split', `${range.value}%`);
    range.setAttribute('aria-valuetext', `${range.value}% original`);
  };
  range.addEventListener('input', update);
  update();
  const scale = element('div', { class: 'compare-scale', 'aria-hidden': 'true' }, [
    element('span', { text: '◀ Original' }),
    element('span', { text: 'Result ▶' }),
  ]);
  return { stage, slider: element('div', { class: 'compare-control' }, [range, scale]) };
}

function downloads(image, index) {
  const size = image.width ? ` · ${image.width}×${image.height}` : '';
  const fullSize = element('a', { class: 'full-size', href: image.url, target: '_blank', rel: 'noopener' }, [
    'Full size',
    element('span', { class: 'visually-hidden', text: ` of variant ${index + 1} (opens a new tab)` }),
  ]);
  return element('div', { class: 'downloads' }, [
    fullSize,
    ...DOWNLOADS.map((format) =>
      element(
        'a',
        {
          class: 'download',
          href: format.url(image),
          download: `background-${index + 1}.${format.extension}`,
        },
        [
          `Download ${format.label}`,
          element('span', { class: 'visually-hidden', text: ` of variant ${index + 1}` }),
          element('span', { class: 'size', text: size }),
        ],
      ),
    ),
  ]);
}

/** Shows the images of a finished task in `container`; `foregroundUrl` enables the sliders. */
export function showResults(container, images, foregroundUrl) {
  container.replaceChildren(
    ...images.map((image, index) => {
      const { stage, slider } = compareSlider(image, foregroundUrl, index);
      const caption = element('figcaption', {}, [
        element('span', { class: 'variant', text: `Variant ${index + 1}` }),
        downloads(image, index),
      ]);
      return element('figure', { class: 'card' }, [stage, ...(slider ? [slider] : []), caption]);
    }),
  );
}

/** Empty frames where the results will appear, `count` of them, while a task runs (or before any). */
export function showPlaceholders(container, count, words) {
  container.replaceChildren(
    ...Array.from({ length: count }, (_, index) =>
      element('div', { class: 'placeholder', 'aria-hidden': 'true' }, [
        element('span', { text: `${words} ${index + 1}` }),
      ]),
    ),
  );
}
