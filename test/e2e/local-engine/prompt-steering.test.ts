import { describe, expect, it } from 'vitest';
import {
  cornerFor,
  createTask,
  download,
  engine,
  pollUntilTerminal,
  rgbAt,
  subject,
  useEngine,
} from './engine-client.js';

/** Prompts, negative prompts and scene types steer the rendered backdrop, and the subject casts a shadow. */

useEngine();

describe('local engine: prompts steer the backdrop', () => {
  it('paints a red backdrop for "red" and a blue one for "blue"', async () => {
    const [red, blue] = await Promise.all([
      cornerFor(engine, { image_file: subject, prompt: 'a red wall' }),
      cornerFor(engine, { image_file: subject, prompt: 'a blue wall' }),
    ]);
    expect(red[0] - red[2]).toBeGreaterThan(60);
    expect(blue[2] - blue[0]).toBeGreaterThan(60);
  });

  it('drops a colour named in negative_prompt', async () => {
    const corner = await cornerFor(engine, {
      image_file: subject,
      prompt: 'blue and red',
      negative_prompt: 'blue',
    });
    expect(corner[0] - corner[2]).toBeGreaterThan(60);
  });

  it('reads a catalogued scene_type as its text and gives unknown ids a neutral light-grey studio', async () => {
    const [meadow, unknown] = await Promise.all([
      cornerFor(engine, { image_file: subject, scene_type: '7' }),
      cornerFor(engine, { image_file: subject, scene_type: '999' }),
    ]);
    expect(meadow[1]).toBeGreaterThan(meadow[0] + 20);
    expect(meadow[1]).toBeGreaterThan(meadow[2] + 20);
    expect(Math.max(...unknown) - Math.min(...unknown)).toBeLessThan(12);
    expect(Math.min(...unknown)).toBeGreaterThan(150);
  });

  it('casts a contact shadow on the floor under the subject', async () => {
    const done = await pollUntilTerminal(
      engine,
      await createTask(engine, { image_file: subject, prompt: 'white' }),
    );
    const png = await download(done.image_1);
    // The block spans x 240..360 and ends at y 240; compare just below it with the same row further out.
    const luminance = ([r, g, b]: [number, number, number]) => 0.3 * r + 0.59 * g + 0.11 * b;
    const under = luminance(await rgbAt(png, 300, 243));
    const aside = luminance(await rgbAt(png, 90, 243));
    expect(under / aside).toBeLessThan(0.8);
  });
});
