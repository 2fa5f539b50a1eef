import { childSeed, createRandom, randomInt, type Random } from './random.js';

export interface RandomForestParams {
  trees: number;
  /** null = grow until pure or too small, as scikit-learn's default. */
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Features tried per split: 'sqrt' of the column count. */
  maxFeatures: 'sqrt';
  bootstrap: boolean;
}

export const DEFAULT_RF_PARAMS: RandomForestParams = {
  trees: 200,
  maxDepth: null,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  maxFeatures: 'sqrt',
  bootstrap: true,
};

/** A tree as flat arrays (node 0 is the root): the layout the ONNX TreeEnsembleClassifier wants. */
export interface TreeNodes {
  /** Column index for a split, -1 for a leaf. */
  feature: number[];
  threshold: number[];
  /** Child node ids: `x[feature] <= threshold` goes left. */
  left: number[];
  right: number[];
  /** Share of positive samples reaching the node (the leaf's P(disease)). */
  positiveShare: number[];
}

export interface RandomForestModel {
  kind: 'random_forest';
  trees: TreeNodes[];
  /** Mean decrease in gini impurity per design column, normalised to sum to 1. */
  importances: number[];
}

interface SplitCandidate {
  feature: number;
  threshold: number;
  gain: number;
}

/**
 * The one routing rule of every tree, in training and prediction: compare at float32 precision, as the ONNX
 * TreeEnsembleClassifier does on its float32 input, so TypeScript and ONNX send every row down the same branch
 * (a value equal to a threshold in float32 but not in float64, like 0.9 against a 0.8|1.0 midpoint, goes left in both).
 */
export function goesLeft(value: number, threshold: number): boolean {
  return Math.fround(value) <= threshold;
}

function gini(positives: number, total: number): number {
  if (total === 0) return 0;
  const p = positives / total;
  return 2 * p * (1 - p);
}

/** Best threshold on one column by scanning sorted values; midpoints between distinct values, as CART does. */
function bestSplitOnFeature(
  x: readonly number[][],
  y: readonly number[],
  samples: readonly number[],
  feature: number,
  minLeaf: number,
): SplitCandidate | null {
  const order = [...samples].sort((a, b) => x[a]![feature]! - x[b]![feature]! || a - b);
  const total = order.length;
  let totalPositives = 0;
  for (const s of order) totalPositives += y[s]!;
  const parent = gini(totalPositives, total);
  let leftPositives = 0;
  let best: SplitCandidate | null = null;
  for (let i = 0; i < total - 1; i++) {
    leftPositives += y[order[i]!]!;
    const here = x[order[i]!]![feature]!;
    const next = x[order[i + 1]!]![feature]!;
    if (here === next) continue;
    const leftCount = i + 1;
    const rightCount = total - leftCount;
    if (leftCount < minLeaf || rightCount < minLeaf) continue;
    const weighted =
      (leftCount / total) * gini(leftPositives, leftCount) + (rightCount / total) * gini(totalPositives - leftPositives, rightCount);
    const gain = parent - weighted;
    // Thresholds are stored as float32, the precision ONNX compares in, so both runtimes route rows alike.
    if (gain > 1e-12 && (best === null || gain > best.gain)) best = { feature, threshold: Math.fround((here + next) / 2), gain };
  }
  return best;
}

function sampleFeatures(columnCount: number, count: number, random: Random): number[] {
  const pool = Array.from({ length: columnCount }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + randomInt(random, columnCount - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count).sort((a, b) => a - b);
}

export function fitDecisionTree(
  x: readonly number[][],
  y: readonly number[],
  samples: readonly number[],
  params: RandomForestParams,
  random: Random,
  importances: number[],
): TreeNodes {
  const columnCount = x[0]?.length ?? 0;
  const featuresPerSplit = Math.max(1, Math.floor(Math.sqrt(columnCount)));
  const nodes: TreeNodes = { feature: [], threshold: [], left: [], right: [], positiveShare: [] };
  const rootCount = samples.length;

  const grow = (nodeSamples: readonly number[], depth: number): number => {
    const id = nodes.feature.length;
    let positives = 0;
    for (const s of nodeSamples) positives += y[s]!;
    nodes.feature.push(-1);
    nodes.threshold.push(0);
    nodes.left.push(-1);
    nodes.right.push(-1);
    nodes.positiveShare.push(positives / nodeSamples.length);
    const pure = positives === 0 || positives === nodeSamples.length;
    const depthReached = params.maxDepth !== null && depth >= params.maxDepth;
    if (pure || depthReached || nodeSamples.length < params.minSamplesSplit) return id;

    let best: SplitCandidate | null = null;
    for (const feature of sampleFeatures(columnCount, featuresPerSplit, random)) {
      const candidate = bestSplitOnFeature(x, y, nodeSamples, feature, params.minSamplesLeaf);
      if (candidate && (best === null || candidate.gain > best.gain)) best = candidate;
    }
    if (best === null) return id;

    importances[best.feature]! += (nodeSamples.length / rootCount) * best.gain;
    const leftSamples = nodeSamples.filter((s) => goesLeft(x[s]![best.feature]!, best.threshold));
    const rightSamples = nodeSamples.filter((s) => !goesLeft(x[s]![best.feature]!, best.threshold));
    nodes.feature[id] = best.feature;
    nodes.threshold[id] = best.threshold;
    nodes.left[id] = grow(leftSamples, depth + 1);
    nodes.right[id] = grow(rightSamples, depth + 1);
    return id;
  };

  grow(samples, 0);
  return nodes;
}

export function fitRandomForest(
  x: readonly number[][],
  y: readonly number[],
  seed: number,
  params: RandomForestParams = DEFAULT_RF_PARAMS,
): RandomForestModel {
  const columnCount = x[0]?.length ?? 0;
  const importances = new Array<number>(columnCount).fill(0);
  const trees: TreeNodes[] = [];
  for (let t = 0; t < params.trees; t++) {
    const random = createRandom(childSeed(seed, t));
    const samples = params.bootstrap
      ? Array.from({ length: x.length }, () => randomInt(random, x.length))
      : Array.from({ length: x.length }, (_, i) => i);
    trees.push(fitDecisionTree(x, y, samples, params, random, importances));
  }
  const total = importances.reduce((a, b) => a + b, 0);
  return { kind: 'random_forest', trees, importances: importances.map((v) => (total > 0 ? v / total : 0)) };
}

export function predictTree(tree: TreeNodes, row: readonly number[]): number {
  let node = 0;
  while (tree.feature[node]! >= 0) {
    node = goesLeft(row[tree.feature[node]!]!, tree.threshold[node]!) ? tree.left[node]! : tree.right[node]!;
  }
  return tree.positiveShare[node]!;
}

/** Mean of the trees' leaf shares (soft voting), as scikit-learn's predict_proba. */
export function predictRandomForest(model: RandomForestModel, x: readonly number[][]): number[] {
  return x.map((row) => {
    let sum = 0;
    for (const tree of model.trees) sum += predictTree(tree, row);
    return sum / model.trees.length;
  });
}
