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
 * A function that replaces every occurrence of the given secrets in a text (as sent, and
 * percent-encoded, as a proxy echoing a URL would show them) with {@link REDACTED}.
 */
export function createScrubber(secrets: readonly (string | null | undefined)[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let scrubbed = text;
    for (const form of ordered) scrubbed = scrubbed.split(form).join(REDACTED);
    return scrubbed;
  };
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
