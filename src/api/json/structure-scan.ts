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

/**
 * One open object or array. Frames are reused by depth (a body of 10,000 small objects allocates a handful of
 * frames, not 10,000), and keys are kept in a short list, which beats a Set for the few keys of most objects.
 */
interface Frame {
  object: boolean;
  /** Keys seen so far (objects only). */
  keys: string[];
  /** The same keys in a Set once the object has many of them. */
  keySet: Set<string> | null;
  /** Current key (objects) or element index (arrays), for paths. */
  key: string | null;
  index: number;
  /** The key this object is the value of, in its parent object (for constructor.prototype). */
  parentKey: string | null;
}

const MANY_KEYS = 32;

/** Remember `key` in `frame`; false when it was already there. */
function addKey(frame: Frame, key: string): boolean {
  if (frame.keySet) {
    if (frame.keySet.has(key)) return false;
    frame.keySet.add(key);
    return true;
  }
  if (frame.keys.includes(key)) return false;
  frame.keys.push(key);
  if (frame.keys.length > MANY_KEYS) frame.keySet = new Set(frame.keys);
  return true;
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

/** 'instances[3].age'-style path of the innermost open container (frames[0 .. depth - 1]), plus `key`. */
function pathOf(frames: readonly Frame[], depth: number, key?: string): string {
  let path = '';
  for (let d = 0; d < depth - 1; d++) {
    const frame = frames[d]!;
    path += frame.object ? `${path === '' ? '' : '.'}${frame.key ?? ''}` : `[${frame.index}]`;
  }
  if (key !== undefined) path += `${path === '' ? '' : '.'}${key}`;
  return path === '' ? '(body)' : path;
}

export function scanJson(text: string, maxDepth: number): ScanProblem | null {
  const frames: Frame[] = [];
  /** Open frames are frames[0 .. depth - 1]. */
  let depth = 0;
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return null;
      const top = depth > 0 ? frames[depth - 1]! : undefined;
      if (expectKey && top?.object) {
        const key = decodeKey(text, i, end);
        if (key === null) return null;
        if (key === '__proto__') return { kind: 'forbidden', path: pathOf(frames, depth, key), key };
        if (key === 'prototype' && top.parentKey === 'constructor') {
          return { kind: 'forbidden', path: pathOf(frames, depth, key), key: 'constructor.prototype' };
        }
        if (!addKey(top, key)) return { kind: 'duplicate', path: pathOf(frames, depth, key), key };
        top.key = key;
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const parent = depth > 0 ? frames[depth - 1]! : undefined;
      const object = c === OPEN_OBJECT;
      const frame = (frames[depth] ??= { object, keys: [], keySet: null, key: null, index: 0, parentKey: null });
      frame.object = object;
      frame.keys.length = 0;
      frame.keySet = null;
      frame.key = null;
      frame.index = 0;
      frame.parentKey = parent?.object ? parent.key : null;
      depth++;
      if (depth > maxDepth) return { kind: 'depth', path: pathOf(frames, depth), maxDepth };
      expectKey = object;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (c === COMMA) {
      const top = depth > 0 ? frames[depth - 1]! : undefined;
      if (top?.object) expectKey = true;
      else if (top) top.index++;
    } else if (c === COLON) {
      expectKey = false;
    }
    i++;
  }
  return null;
}
