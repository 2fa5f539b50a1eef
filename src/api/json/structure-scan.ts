/**
 * One pass over JSON text, before it is parsed, for what JSON.parse and secure-json-parse do not check: nesting
 * deeper than a limit and a key given twice in one object (JSON.parse keeps the last value silently, so a proxy or a
 * log that keeps the first sees a different request from the one scored). It also names prototype-poisoning keys
 * (`__proto__`, `constructor.prototype`), which secure-json-parse refuses without saying where.
 *
 * Iterative, with an explicit stack bounded by the depth limit: no recursion a client can drive. Lenient on syntax:
 * broken JSON is left to the parser, which reports it. On the hot path it allocates nothing per key: keys are
 * compared where they stand in the text (positions), and frames are reused by depth; a key with escapes
 * ("\u0061ge" is "age") switches its object to comparing decoded strings.
 */

export type ScanProblem =
  | { kind: 'depth'; path: string; maxDepth: number }
  | { kind: 'duplicate'; path: string; key: string }
  | { kind: 'forbidden'; path: string; key: string };

interface Frame {
  object: boolean;
  /** Keys seen so far, as [start, end) positions of their raw text (between the quotes) and a hash of it. */
  starts: number[];
  ends: number[];
  hashes: number[];
  /** Decoded keys, once a key with escapes has been seen in this object (then every key is kept decoded). */
  decoded: string[] | null;
  /** Current key, for paths: raw position, or decoded text. */
  keyStart: number;
  keyEnd: number;
  keyText: string | null;
  index: number;
  /** Whether this object is the value of a `constructor` key (for constructor.prototype). */
  underConstructor: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Characters the scan acts on; everything else (numbers, literals, white space) is skipped in a tight loop. */
const STRUCTURAL = new Uint8Array(128);
for (const c of [QUOTE, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, COMMA, COLON]) STRUCTURAL[c] = 1;

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

/** Whether text[start, end) has a backslash (an escaped key). */
function hasEscape(text: string, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (text.charCodeAt(k) === BACKSLASH) return true;
  return false;
}

/** A 31-bit hash of raw text[start, end), or -1 when it has a backslash (escapes: compared decoded instead). */
function rawHash(text: string, start: number, end: number): number {
  let hash = end - start;
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c === BACKSLASH) return -1;
    hash = (Math.imul(hash, 31) + c) & 0x7fffffff;
  }
  return hash;
}

/** Decoded text of the raw key text[start, end); null when its escapes are broken (the parser will say so). */
function decode(text: string, start: number, end: number): string | null {
  try {
    return JSON.parse(text.slice(start - 1, end + 1)) as string;
  } catch {
    return null;
  }
}

/** Whether raw text[start, end) is exactly `word` (no escapes). */
function rawEquals(text: string, start: number, end: number, word: string): boolean {
  return end - start === word.length && text.startsWith(word, start);
}

function sameRaw(text: string, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const length = aEnd - aStart;
  if (bEnd - bStart !== length) return false;
  for (let k = 0; k < length; k++) if (text.charCodeAt(aStart + k) !== text.charCodeAt(bStart + k)) return false;
  return true;
}

function keyOf(text: string, frame: Frame): string {
  return frame.keyText ?? text.slice(frame.keyStart, frame.keyEnd);
}

/** 'instances[3].age'-style path of the innermost open container (frames[0 .. depth - 1]), plus `key`. */
function pathOf(text: string, frames: readonly Frame[], depth: number, key?: string): string {
  let path = '';
  for (let d = 0; d < depth - 1; d++) {
    const frame = frames[d]!;
    path += frame.object ? `${path === '' ? '' : '.'}${keyOf(text, frame)}` : `[${frame.index}]`;
  }
  if (key !== undefined) path += `${path === '' ? '' : '.'}${key}`;
  return path === '' ? '(body)' : path;
}

/**
 * Record the key text[start, end) in `frame`; returns the decoded key when it is a duplicate or forbidden, as a
 * problem, else null. Returns undefined when the key's escapes are broken (stop scanning: the parser will refuse).
 */
function checkKey(text: string, frames: Frame[], depth: number, start: number, end: number): ScanProblem | null | undefined {
  const frame = frames[depth - 1]!;
  const hash = frame.decoded === null ? rawHash(text, start, end) : -1;
  if (frame.decoded === null && hash < 0) {
    // Switch this object to decoded keys (rare: escapes in keys).
    const decoded: string[] = [];
    for (let k = 0; k < frame.starts.length; k++) decoded.push(text.slice(frame.starts[k], frame.ends[k]));
    frame.decoded = decoded;
  }
  if (frame.decoded !== null) {
    const key = hasEscape(text, start, end) ? decode(text, start, end) : text.slice(start, end);
    if (key === null) return undefined;
    if (key === '__proto__') return { kind: 'forbidden', path: pathOf(text, frames, depth, key), key };
    if (key === 'prototype' && frame.underConstructor) {
      return { kind: 'forbidden', path: pathOf(text, frames, depth, key), key: 'constructor.prototype' };
    }
    if (frame.decoded.includes(key)) return { kind: 'duplicate', path: pathOf(text, frames, depth, key), key };
    frame.decoded.push(key);
    frame.keyText = key;
    return null;
  }
  if (rawEquals(text, start, end, '__proto__'))
    return { kind: 'forbidden', path: pathOf(text, frames, depth, '__proto__'), key: '__proto__' };
  if (frame.underConstructor && rawEquals(text, start, end, 'prototype')) {
    return { kind: 'forbidden', path: pathOf(text, frames, depth, 'prototype'), key: 'constructor.prototype' };
  }
  for (let k = 0; k < frame.hashes.length; k++) {
    if (frame.hashes[k] === hash && sameRaw(text, start, end, frame.starts[k]!, frame.ends[k]!)) {
      const key = text.slice(start, end);
      return { kind: 'duplicate', path: pathOf(text, frames, depth, key), key };
    }
  }
  frame.starts.push(start);
  frame.ends.push(end);
  frame.hashes.push(hash);
  frame.keyStart = start;
  frame.keyEnd = end;
  frame.keyText = null;
  return null;
}

export function scanJson(text: string, maxDepth: number): ScanProblem | null {
  const frames: Frame[] = [];
  /** Open frames are frames[0 .. depth - 1]. */
  let depth = 0;
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    while (c >= 128 || STRUCTURAL[c] === 0) {
      if (++i >= n) return null;
      c = text.charCodeAt(i);
    }
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return null;
      if (expectKey && depth > 0 && frames[depth - 1]!.object) {
        const problem = checkKey(text, frames, depth, i + 1, end);
        if (problem === undefined) return null;
        if (problem) return problem;
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const parent = depth > 0 ? frames[depth - 1]! : undefined;
      const object = c === OPEN_OBJECT;
      const frame = (frames[depth] ??= {
        object,
        starts: [],
        ends: [],
        hashes: [],
        decoded: null,
        keyStart: 0,
        keyEnd: 0,
        keyText: null,
        index: 0,
        underConstructor: false,
      });
      frame.object = object;
      frame.starts.length = 0;
      frame.ends.length = 0;
      frame.hashes.length = 0;
      frame.decoded = null;
      frame.keyText = null;
      frame.keyStart = frame.keyEnd = 0;
      frame.index = 0;
      frame.underConstructor =
        parent?.object === true &&
        (parent.keyText !== null ? parent.keyText === 'constructor' : rawEquals(text, parent.keyStart, parent.keyEnd, 'constructor'));
      depth++;
      if (depth > maxDepth) return { kind: 'depth', path: pathOf(text, frames, depth), maxDepth };
      expectKey = object;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (c === COMMA) {
      const top = depth > 0 ? frames[depth - 1]! : undefined;
      if (top?.object) expectKey = true;
      else if (top) top.index++;
    } else {
      expectKey = false; // COLON
    }
    i++;
  }
  return null;
}
