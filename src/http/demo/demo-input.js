// The foreground picker: a file input inside a drop zone, drag and drop, paste (a file or a
// link), or an image URL. It keeps one source and a preview of it for the before/after slider.

const $ = (id) => document.getElementById(id);

/**
 * Wires the picker (`onChange` hears the chosen File, or null for a URL or nothing) and returns `{ source(), previewUrl(), markInvalid() }`: the chosen File or
 * URL string (null if none), an image URL of the foreground for comparisons, and a way to flag it.
 */
export function createImageInput({ onChange }) {
  const input = $('image');
  const urlInput = $('image-url');
  const zone = $('drop-zone');
  const preview = $('preview');
  const text = $('drop-text');
  const emptyText = text.innerHTML;
  let file = null;
  let objectUrl = null;

  function show(src, label) {
    if (objectUrl && objectUrl !== src) URL.revokeObjectURL(objectUrl);
    objectUrl = src?.startsWith('blob:') ? src : null;
    preview.hidden = !src;
    if (src) preview.src = src;
    else preview.removeAttribute('src');
    preview.alt = src ? `Chosen foreground: ${label}` : '';
    zone.classList.toggle('has-image', Boolean(src));
    if (src) text.textContent = `${label} — drop or paste another to replace it`;
    else text.innerHTML = emptyText;
    input.removeAttribute('aria-invalid');
    zone.classList.remove('invalid');
    onChange?.(file);
  }

  function useFile(chosen) {
    if (!chosen) return;
    file = chosen;
    urlInput.value = '';
    show(URL.createObjectURL(chosen), chosen.name || 'pasted image');
  }

  input.addEventListener('change', () => useFile(input.files?.[0] ?? null));
  urlInput.addEventListener('input', () => {
    const value = urlInput.value.trim();
    if (!value) return show(null);
    file = null;
    input.value = '';
    show(value, 'image from URL');
  });

  for (const name of ['dragenter', 'dragover']) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
  }
  for (const name of ['dragleave', 'dragend']) {
    zone.addEventListener(name, () => zone.classList.remove('dragging'));
  }
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const dropped = event.dataTransfer?.files?.[0];
    if (dropped) return useFile(dropped);
    const link = event.dataTransfer?.getData('text/uri-list') || event.dataTransfer?.getData('text/plain');
    if (link) {
      urlInput.value = link.trim();
      urlInput.dispatchEvent(new Event('input'));
    }
  });

  document.addEventListener('paste', (event) => {
    const pasted = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (pasted) {
      event.preventDefault();
      return useFile(pasted);
    }
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
    const textValue = event.clipboardData?.getData('text/plain')?.trim() ?? '';
    if (/^https?:\/\//i.test(textValue)) {
      urlInput.value = textValue;
      urlInput.dispatchEvent(new Event('input'));
    }
  });

  return {
    source: () => file ?? (urlInput.value.trim() || null),
    previewUrl: () => (preview.hidden ? null : preview.src),
    markInvalid() {
      input.setAttribute('aria-invalid', 'true');
      zone.classList.add('invalid');
    },
  };
}
