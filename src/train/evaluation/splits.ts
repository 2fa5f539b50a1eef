import { createRandom, shuffled } from '../models/random.js';

/** Indices of each class, shuffled with the seed: the basis of every stratified split here. */
function shuffledByClass(y: readonly number[], seed: number): number[][] {
  const random = createRandom(seed);
  const byClass = new Map<number, number[]>();
  y.forEach((label, i) => byClass.set(label, [...(byClass.get(label) ?? []), i]));
  return [...byClass.keys()].sort((a, b) => a - b).map((label) => shuffled(byClass.get(label)!, random));
}

/** Stratified hold-out: `fraction` of each class goes to the test side. Indices come back sorted. */
export function stratifiedHoldout(y: readonly number[], fraction: number, seed: number): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  for (const indices of shuffledByClass(y, seed)) {
    const testCount = Math.round(indices.length * fraction);
    test.push(...indices.slice(0, testCount));
    train.push(...indices.slice(testCount));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/** Stratified k folds: each class dealt round-robin over the folds, so fold class balance differs by at most one. */
export function stratifiedKFold(y: readonly number[], k: number, seed: number): { train: number[]; test: number[] }[] {
  const foldOf = new Array<number>(y.length);
  let dealt = 0;
  for (const indices of shuffledByClass(y, seed)) {
    for (const i of indices) foldOf[i] = dealt++ % k;
  }
  return Array.from({ length: k }, (_, fold) => ({
    train: y.map((_, i) => i).filter((i) => foldOf[i] !== fold),
    test: y.map((_, i) => i).filter((i) => foldOf[i] === fold),
  }));
}
