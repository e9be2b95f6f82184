import { describe, expect, it } from 'vitest';
import { Signal } from '../../../src/shared/signal.js';

/** The notice between parts built apart (src/shared/signal.ts). */
describe('a signal', () => {
  it('tells every listener of each notice until it stops listening', () => {
    const signal = new Signal();
    const heard: string[] = [];
    const stopA = signal.listen(() => void heard.push('a'));
    signal.listen(() => void heard.push('b'));
    signal.notify();
    stopA();
    signal.notify();
    expect(heard).toEqual(['a', 'b', 'b']);
  });
});
