/**
 * One pass over JSON text, before it is parsed, for what JSON.parse and secure-json-parse do not check: nesting
 * deeper than a limit and a key given twice in one object (JSON.parse keeps the last value silently, so a proxy or a
 * log that keeps the first sees a different request from the one scored). It also names prototype-poisoning keys
 * (`__proto__`, `constructor.prototype`), which secure-json-parse refuses without saying where.
 *
 * Iterative, with an explicit stack bounded by the depth limit: no recursion a client can drive. Lenient on syntax:
 * broken JSON is left to the parser, which reports it.
 */

export type ScanProblem =
  | { kind: 'depth'; path: string; maxDepth: number }
  | { kind: 'duplicate'; path: string; key: string }
  | { kind: 'forbidden'; path: string; key: string };

interface Frame {
  object: boolean;
  /** Keys seen so far (objects only). */
  keys: Set<string> | null;
  /** Current key (objects) or element index (arrays), for paths. */
  key: string | null;
  index: number;
  /** The key this object is the value of, in its parent object (for constructor.prototype). */
  parentKey: string | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Index of the quote closing the string that opens at `start`, or -1 when it is not closed. */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let k = quote - 1; k > start && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** Decoded key text ("\u0061ge" is "age"); null when the escapes are broken (the parser will say so). */
function decodeKey(text: string, start: number, end: number): string | null {
  const raw = text.slice(start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return null;
  }
}

/** 'instances[3].age'-style path of the innermost object's current position, plus `key`. */
function pathOf(stack: readonly Frame[], key?: string): string {
  let path = '';
  for (let d = 0; d < stack.length - 1; d++) {
    const frame = stack[d]!;
    path += frame.object ? `${path === '' ? '' : '.'}${frame.key ?? ''}` : `[${frame.index}]`;
  }
  if (key !== undefined) path += `${path === '' ? '' : '.'}${key}`;
  return path === '' ? '(body)' : path;
}

export function scanJson(text: string, maxDepth: number): ScanProblem | null {
  const stack: Frame[] = [];
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return null;
      const top = stack[stack.length - 1];
      if (expectKey && top?.object) {
        const key = decodeKey(text, i, end);
        if (key === null) return null;
        if (key === '__proto__') return { kind: 'forbidden', path: pathOf(stack, key), key };
        if (key === 'prototype' && top.parentKey === 'constructor') {
          return { kind: 'forbidden', path: pathOf(stack, key), key: 'constructor.prototype' };
        }
        if (top.keys!.has(key)) return { kind: 'duplicate', path: pathOf(stack, key), key };
        top.keys!.add(key);
        top.key = key;
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const parent = stack[stack.length - 1];
      const object = c === OPEN_OBJECT;
      stack.push({ object, keys: object ? new Set() : null, key: null, index: 0, parentKey: parent?.object ? parent.key : null });
      if (stack.length > maxDepth) return { kind: 'depth', path: pathOf(stack), maxDepth };
      expectKey = object;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      expectKey = false;
    } else if (c === COMMA) {
      const top = stack[stack.length - 1];
      if (top?.object) expectKey = true;
      else if (top) top.index++;
    } else if (c === COLON) {
      expectKey = false;
    }
    i++;
  }
  return null;
}
