import sharp from 'sharp';

/**
 * The foregrounds the gateway serves itself (at `/samples/…`, and to its own URL fetcher without
 * the network), so GraphiQL's first example and the docs' links run on a fresh, offline gateway.
 * Drawn once, on first use: a product-like bottle on a transparent canvas, as PicWish expects.
 */
const PRODUCT_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800" viewBox="0 0 800 800">
  <rect x="350" y="120" width="100" height="90" rx="12" fill="#3a3a3a"/>
  <path d="M330 210 h140 q40 40 40 110 v330 q0 40 -40 40 h-140 q-40 0 -40 -40 v-330 q0 -70 40 -110 z" fill="#2e7d6b"/>
  <rect x="310" y="400" width="180" height="170" rx="10" fill="#f4efe4"/>
  <rect x="340" y="450" width="120" height="14" rx="7" fill="#2e7d6b"/>
  <rect x="360" y="490" width="80" height="10" rx="5" fill="#8a8a8a"/>
</svg>`;

/** Path (under the gateway) → the sample's bytes, drawn on first use and kept. */
export const SAMPLE_IMAGES: ReadonlyMap<string, () => Promise<Buffer>> = new Map([
  ['/samples/product.png', once(() => sharp(Buffer.from(PRODUCT_SVG)).png().toBuffer())],
]);

function once(make: () => Promise<Buffer>): () => Promise<Buffer> {
  let made: Promise<Buffer> | null = null;
  return () => {
    made ??= make();
    // A failed drawing is tried again on the next call rather than kept.
    made.catch(() => {
      made = null;
    });
    return made;
  };
}
