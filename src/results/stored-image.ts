/**
 * A result image as the results layer sees it: what the upstream handed over (kept in the task
 * until downloaded, since a link dies an hour after completion), and what the blob store now
 * holds. The task model refers to both; the results layer owns their shape.
 */

/** A result as the upstream handed it over: a link that dies in an hour, or inline bytes. */
export type PendingImage =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'base64'; readonly data: string };

/** A result kept by the gateway's blob store. */
export interface StoredImage {
  readonly key: string;
  readonly width: number;
  readonly height: number;
  readonly contentType: string;
  readonly bytes: number;
}
