import { describe, expect, it } from 'vitest';
import { sharedMapPath } from '../../../src/http/upload.js';

describe('sharedMapPath', () => {
  it('names the first path two different files are mapped to', () => {
    expect(sharedMapPath('{"0":["variables.file"],"1":["variables.file"]}')).toBe('variables.file');
    expect(sharedMapPath('{"0":["0.variables.a"],"1":["0.variables.b","0.variables.a"]}')).toBe(
      '0.variables.a',
    );
  });

  it('accepts one file at several paths, and distinct paths', () => {
    expect(sharedMapPath('{"0":["variables.a","variables.b"]}')).toBeNull();
    expect(
      sharedMapPath('{"0":["variables.inputs.0.image.file"],"1":["variables.inputs.1.image.file"]}'),
    ).toBeNull();
  });

  it('leaves maps the multipart parser refuses itself alone', () => {
    expect(sharedMapPath(null)).toBeNull();
    expect(sharedMapPath('not json')).toBeNull();
    expect(sharedMapPath('{"0":"variables.file"}')).toBeNull();
  });
});
