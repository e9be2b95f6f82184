import { existsSync, readFileSync } from 'node:fs';

const START = '<!-- transports:start (bench/transports.ts) -->';
const END = '<!-- transports:end -->';

/** `markdown` with its per-transport section (bench/transports.ts) replaced by `section`, or appended. */
export function withTransportSection(markdown: string, section: string): string {
  const block = `${START}\n${section.trim()}\n${END}`;
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) return `${markdown.trimEnd()}\n\n${block}\n`;
  return `${markdown.slice(0, start)}${block}${markdown.slice(end + END.length)}`;
}

/**
 * The per-transport section of the report at `path`, so `npm run bench` (which rewrites the
 * report) keeps the figures bench/transports.ts measured separately; empty when there is none.
 */
export function transportSectionOf(path: URL): string {
  if (!existsSync(path)) return '';
  const markdown = readFileSync(path, 'utf8');
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  return start < 0 || end < start ? '' : markdown.slice(start + START.length, end).trim();
}
