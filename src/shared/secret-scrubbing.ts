/**
 * Secrets must not travel through text the gateway did not write: an upstream (or a proxy in
 * front of it) that echoes the `X-API-KEY` into its message would otherwise show the key to every
 * tenant, and a URL with credentials in it would print them wherever it is logged or shown.
 */

/** Secrets shorter than this are not scrubbed: replacing "a" everywhere would shred any text. */
const MIN_SECRET_LENGTH = 6;

/** What a scrubbed secret reads as. */
export const REDACTED = '[redacted]';

/**
 * A function that replaces every occurrence of the given secrets in a text with {@link REDACTED}:
 * as sent, percent-encoded (a proxy echoing a URL), in any letter case (an upstream that upper-cases
 * its message), and base64-encoded at any of the three byte alignments (a `Basic` header or a
 * request dump echoed back), standard or URL-safe, without the one or two characters at each end
 * that depend on the bytes around it. Run it on the whole text before cutting the text down: a
 * cut through the middle of a secret leaves a part no scrubber recognises.
 */
export function createScrubber(secrets: readonly (string | null | undefined)[]): (text: string) => string {
  const anyCase = new Set<string>();
  const exact = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < MIN_SECRET_LENGTH) continue;
    anyCase.add(secret);
    anyCase.add(encodeURIComponent(secret));
    for (const form of base64Forms(secret)) exact.add(form);
  }
  const patterns = [pattern(anyCase, 'gi'), pattern(exact, 'g')].filter((p) => p !== null);
  if (patterns.length === 0) return (text) => text;
  return (text) => {
    let scrubbed = text;
    for (const each of patterns) scrubbed = scrubbed.replace(each, REDACTED);
    return scrubbed;
  };
}

/** One regular expression for all `forms`, longest first so a secret containing another goes whole. */
function pattern(forms: ReadonlySet<string>, flags: string): RegExp | null {
  if (forms.size === 0) return null;
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return new RegExp(ordered.map((form) => form.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'), flags);
}

/**
 * The base64 text `secret` becomes inside a longer base64 string, for each of the three offsets it
 * may start at: only the 4-character groups made of the secret's bytes alone, in both alphabets.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset += 1) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const first = Math.ceil(offset / 3) * 4;
    const last = Math.floor(padded.length / 3) * 4;
    if (last - first < 8) continue;
    const standard = padded.toString('base64').slice(first, last);
    forms.push(standard, standard.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return forms;
}

/** `url` with any user name and password removed; a text that is not a URL comes back as is. */
export function withoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!parsed.username && !parsed.password) return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
}

/** The password inside a URL, for a scrubber; none for a URL without one or a non-URL. */
export function passwordOf(url: string | null): string[] {
  if (!url) return [];
  try {
    const { password } = new URL(url);
    return password ? [decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}
