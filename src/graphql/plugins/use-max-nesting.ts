import { Source, syntaxError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Options of {@link useMaxNesting}. */
export interface MaxNestingOptions {
  /**
   * The deepest nesting of `{`, `[` and `(` a document may have. graphql-js parses recursively and
   * overflows the call stack somewhere above a thousand levels; a real operation needs a few dozen.
   * @default 64
   */
  readonly maxNesting?: number;
}

/**
 * Refuses a document nested deeper than `maxNesting` before graphql-js parses it. The parser is
 * recursive: a ~6 KB query with a list literal nested 3000 deep overflows the stack below the token
 * limit (graphql-armor's max-tokens and max-depth do not stop it: the first counts tokens, the
 * second looks at selections after parsing) and came out as INTERNAL_SERVER_ERROR with a logged
 * stack trace. The scan is one pass over the text; the refusal is a syntax error, which Yoga
 * answers as 400 GRAPHQL_PARSE_FAILED like any other.
 */
export function useMaxNesting(options: MaxNestingOptions = {}): Plugin {
  const limit = options.maxNesting ?? 64;
  return {
    onParse: ({ parseFn, setParseFn }) => {
      setParseFn((source, parseOptions) => {
        const text = typeof source === 'string' ? source : source.body;
        const at = firstPositionDeeperThan(text, limit);
        if (at !== -1) {
          const located = typeof source === 'string' ? new Source(source) : source;
          throw syntaxError(located, at, `Nesting deeper than ${limit} levels.`);
        }
        return parseFn(source, parseOptions);
      });
    },
  };
}

/**
 * The offset of the first bracket that opens level `limit + 1`, or -1. Strings, block strings
 * and comments are skipped, so brackets inside them do not count.
 */
export function firstPositionDeeperThan(text: string, limit: number): number {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === HASH) {
      while (i < text.length && text.charCodeAt(i) !== NEWLINE && text.charCodeAt(i) !== RETURN) i++;
    } else if (c === QUOTE) {
      i = text.startsWith('"""', i) ? endOfBlockString(text, i + 3) : endOfString(text, i + 1);
      continue;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET || c === OPEN_PAREN) {
      depth++;
      if (depth > limit) return i;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET || c === CLOSE_PAREN) {
      if (depth > 0) depth--;
    }
    i++;
  }
  return -1;
}

/** The offset after the closing `"` of a string whose body starts at `i`. */
function endOfString(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE || c === NEWLINE || c === RETURN) return i + 1;
    else i++;
  }
  return i;
}

/** The offset after the closing `"""` of a block string whose body starts at `i`. */
function endOfBlockString(text: string, i: number): number {
  while (i < text.length) {
    if (text.startsWith('\\"""', i)) i += 4;
    else if (text.startsWith('"""', i)) return i + 3;
    else i++;
  }
  return i;
}

const HASH = 0x23;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
