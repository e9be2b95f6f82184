import { renderBackgrounds } from './render.js';
import type { Semaphore } from './semaphore.js';
import { inspectSource } from './source.js';
import { styleForScene, styleFromText } from './style.js';
import type { Outcome } from './tasks.js';
import type { SceneTypeInfo } from './types.js';

/**
 * The work behind one accepted task: check the source, render. It runs after the create
 * has been answered, which is why every problem ends as a task state instead of an HTTP error.
 */

/** A validated create, as the HTTP layer hands it over. */
export interface JobInput {
  /** The uploaded image; the engine never fetches one from a URL. */
  file: Buffer;
  prompt: string | null;
  sceneType: number | null;
  negativePrompt: string;
  batchSize: 1 | 2;
}

/** What the work needs from the running engine. */
export interface JobContext {
  sceneTypes: readonly SceneTypeInfo[];
  /** Aborted when the engine closes, so queued renders do not start. */
  signal: AbortSignal;
  renders: Semaphore;
}

/** Runs a task's work to its outcome; it never rejects (unexpected errors end as state -1). */
export async function runJob(input: JobInput, context: JobContext): Promise<Outcome> {
  try {
    const inspected = await inspectSource(input.file);
    if (!inspected.ok) return { state: inspected.error };

    const style =
      input.prompt !== null
        ? styleFromText(input.prompt, input.negativePrompt)
        : styleForScene(input.sceneType ?? -1, context.sceneTypes, input.negativePrompt);
    const source = input.file;
    return await context.renders.run(async (): Promise<Outcome> => {
      if (context.signal.aborted) return { state: -1 };
      const rendered = await renderBackgrounds(source, style, input.batchSize);
      return rendered.ok ? { state: 1, images: rendered.value } : { state: -7 };
    });
  } catch {
    return { state: -1 };
  }
}
