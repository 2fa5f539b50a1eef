import { ONNX_INPUT, ONNX_OUTPUTS } from '../../contract/artifact-contract.js';
import type { Feature } from '../../features/feature-schema.js';
import type { PlattCalibration } from '../models/calibration.js';
import { calibratedLinear, type TrainedModel } from '../models/model.js';
import type { LogisticRegressionModel } from '../models/logistic-regression.js';
import type { RandomForestModel } from '../models/random-forest.js';
import { FLOAT, INT64, ONNX_ML_DOMAIN, encodeModel, floatInfo, floatTensor, int64Info, int64Tensor, node } from './onnx-builder.js';

/** The graph's tensor names are the artifact contract's: one float32 [N, 13] input in schema order (NaN = missing). */
const ONNX_LABEL_OUTPUT = ONNX_OUTPUTS.label;
const ONNX_PROBABILITIES_OUTPUT = ONNX_OUTPUTS.probabilities;

/** The classifiers' own label output is not used: its rule differs between operators (see labelNodes). */
const CLASSIFIER_LABEL = 'classifier_label';

type Nodes = ReturnType<typeof node>[];
type Initializers = ReturnType<typeof int64Tensor>[];

/**
 * Imputer → numerics (Gather, Scaler) ‖ categoricals one-hot (Gather, Equal, Cast) ‖ missing indicators
 * (IsNaN on the raw input, Cast, Gather) → Concat = the design matrix.
 */
function preprocessingNodes(
  model: TrainedModel,
  features: readonly Feature[],
): { nodes: Nodes; initializers: Initializers; output: string } {
  const prep = model.preprocessing;
  const nodes: Nodes = [
    node(
      'Imputer',
      [ONNX_INPUT],
      ['imputed'],
      { imputed_value_floats: { floats: prep.imputeValues }, replaced_value_float: Number.NaN },
      ONNX_ML_DOMAIN,
    ),
  ];
  const initializers: Initializers = [];
  const parts: string[] = [];

  const numericColumns = prep.columns.filter((c) => c.kind === 'numeric');
  if (numericColumns.length > 0) {
    initializers.push(int64Tensor('numeric_indices', prep.numericIndices));
    nodes.push(node('Gather', ['imputed', 'numeric_indices'], ['numeric_raw'], { axis: 1 }));
    const identity = numericColumns.every((c) => c.mean === 0 && c.std === 1);
    if (identity) {
      parts.push('numeric_raw');
    } else {
      nodes.push(
        node(
          'Scaler',
          ['numeric_raw'],
          ['numeric_scaled'],
          { offset: { floats: numericColumns.map((c) => c.mean) }, scale: { floats: numericColumns.map((c) => 1 / c.std) } },
          ONNX_ML_DOMAIN,
        ),
      );
      parts.push('numeric_scaled');
    }
  }

  // One-hot for every categorical at once: each categorical column repeated once per code (one Gather), compared
  // with that code (Equal), as floats (Cast). Same columns and order as one OneHotEncoder per feature (an unknown
  // code gives all zeros), in 3 nodes instead of 3 per feature: onnxruntime's cost per run grows with the node count.
  const oneHotColumns: number[] = [];
  const oneHotCodes: number[] = [];
  for (const j of prep.categoricalIndices) {
    const feature = features[j]!;
    if (feature.type !== 'categorical') continue;
    for (const { code } of feature.codes) {
      oneHotColumns.push(j);
      oneHotCodes.push(code);
    }
  }
  if (oneHotColumns.length > 0) {
    initializers.push(int64Tensor('onehot_columns', oneHotColumns), floatTensor('onehot_codes', oneHotCodes));
    nodes.push(
      node('Gather', ['imputed', 'onehot_columns'], ['onehot_values'], { axis: 1 }),
      node('Equal', ['onehot_values', 'onehot_codes'], ['onehot_mask']),
      node('Cast', ['onehot_mask'], ['onehot'], { to: FLOAT }),
    );
    parts.push('onehot');
  }

  if (prep.indicatorIndices.length > 0) {
    // Read from the raw input, before the Imputer has overwritten what was missing.
    initializers.push(int64Tensor('indicator_indices', prep.indicatorIndices));
    nodes.push(
      node('IsNaN', [ONNX_INPUT], ['missing_mask']),
      node('Cast', ['missing_mask'], ['missing_all'], { to: FLOAT }),
      node('Gather', ['missing_all', 'indicator_indices'], ['missing_indicators'], { axis: 1 }),
    );
    parts.push('missing_indicators');
  }
  nodes.push(node('Concat', parts, ['design'], { axis: 1 }));
  return { nodes, initializers, output: 'design' };
}

/**
 * Both classes get a score row (class 0 = −w, −b) so LOGISTIC yields [1 − p, p] directly. Platt calibration is
 * already folded into w and b (calibratedLinear), so the calibrated model is still this one node.
 */
function logisticRegressionNode(estimator: LogisticRegressionModel, calibration: PlattCalibration | null, input: string) {
  const { weights, intercept } = calibratedLinear(estimator, calibration);
  return node(
    'LinearClassifier',
    [input],
    [CLASSIFIER_LABEL, ONNX_PROBABILITIES_OUTPUT],
    {
      classlabels_ints: { ints: [0, 1] },
      coefficients: { floats: [...weights.map((w) => -w), ...weights] },
      intercepts: { floats: [-intercept, intercept] },
      post_transform: 'LOGISTIC',
    },
    ONNX_ML_DOMAIN,
  );
}

/** Every leaf carries both class weights (share / trees), so the summed scores are the forest's mean probabilities. */
function randomForestNode(estimator: RandomForestModel, input: string, output: string) {
  const a = {
    nodes_treeids: [] as number[],
    nodes_nodeids: [] as number[],
    nodes_featureids: [] as number[],
    nodes_modes: [] as string[],
    nodes_values: [] as number[],
    nodes_truenodeids: [] as number[],
    nodes_falsenodeids: [] as number[],
    class_treeids: [] as number[],
    class_nodeids: [] as number[],
    class_ids: [] as number[],
    class_weights: [] as number[],
  };
  const trees = estimator.trees.length;
  estimator.trees.forEach((tree, t) => {
    tree.feature.forEach((feature, n) => {
      const leaf = feature < 0;
      a.nodes_treeids.push(t);
      a.nodes_nodeids.push(n);
      a.nodes_featureids.push(leaf ? 0 : feature);
      a.nodes_modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      a.nodes_values.push(leaf ? 0 : tree.threshold[n]!);
      a.nodes_truenodeids.push(leaf ? 0 : tree.left[n]!);
      a.nodes_falsenodeids.push(leaf ? 0 : tree.right[n]!);
      if (leaf) {
        const share = tree.positiveShare[n]!;
        a.class_treeids.push(t, t);
        a.class_nodeids.push(n, n);
        a.class_ids.push(0, 1);
        a.class_weights.push((1 - share) / trees, share / trees);
      }
    });
  });
  return node(
    'TreeEnsembleClassifier',
    [input],
    [CLASSIFIER_LABEL, output],
    {
      classlabels_int64s: { ints: [0, 1] },
      nodes_treeids: { ints: a.nodes_treeids },
      nodes_nodeids: { ints: a.nodes_nodeids },
      nodes_featureids: { ints: a.nodes_featureids },
      nodes_modes: a.nodes_modes,
      nodes_values: { floats: a.nodes_values },
      nodes_truenodeids: { ints: a.nodes_truenodeids },
      nodes_falsenodeids: { ints: a.nodes_falsenodeids },
      class_treeids: { ints: a.class_treeids },
      class_nodeids: { ints: a.class_nodeids },
      class_ids: { ints: a.class_ids },
      class_weights: { floats: a.class_weights },
      post_transform: 'NONE',
    },
    ONNX_ML_DOMAIN,
  );
}

/** Platt on the forest's vote share s: P = sigmoid(slope · s + intercept), output as [1 − P, P]. */
function plattNodes(calibration: PlattCalibration, votes: string): { nodes: Nodes; initializers: Initializers } {
  return {
    initializers: [
      int64Tensor('vote_share_column', [1]),
      floatTensor('platt_slope', [calibration.slope], []),
      floatTensor('platt_intercept', [calibration.intercept], []),
      floatTensor('one', [1], []),
    ],
    nodes: [
      // A 1-element index keeps the axis: [N, 2] → [N, 1].
      node('Gather', [votes, 'vote_share_column'], ['vote_share'], { axis: 1 }),
      node('Mul', ['vote_share', 'platt_slope'], ['platt_scaled']),
      node('Add', ['platt_scaled', 'platt_intercept'], ['platt_logit']),
      node('Sigmoid', ['platt_logit'], ['calibrated_positive']),
      node('Sub', ['one', 'calibrated_positive'], ['calibrated_negative']),
      node('Concat', ['calibrated_negative', 'calibrated_positive'], [ONNX_PROBABILITIES_OUTPUT], { axis: 1 }),
    ],
  };
}

/** The estimator (and its calibration) from the design matrix to the `probabilities` output. */
function classifierNodes(model: TrainedModel, design: string): { nodes: Nodes; initializers: Initializers } {
  if (model.estimator.kind === 'logistic_regression') {
    return { nodes: [logisticRegressionNode(model.estimator, model.calibration, design)], initializers: [] };
  }
  if (!model.calibration) return { nodes: [randomForestNode(model.estimator, design, ONNX_PROBABILITIES_OUTPUT)], initializers: [] };
  const platt = plattNodes(model.calibration, 'forest_probabilities');
  return { nodes: [randomForestNode(model.estimator, design, 'forest_probabilities'), ...platt.nodes], initializers: platt.initializers };
}

/**
 * label = P(disease) >= threshold, computed in the graph. TreeEnsembleClassifier's own label for two explicitly
 * weighted classes does not follow its probabilities in onnxruntime, so neither classifier's label is trusted.
 */
function labelNodes(threshold: number): { nodes: Nodes; initializers: ReturnType<typeof floatTensor | typeof int64Tensor>[] } {
  return {
    // A scalar index makes Gather drop the axis: [N, 2] → [N].
    initializers: [int64Tensor('positive_column', [1], []), floatTensor('decision_threshold', [threshold], [])],
    nodes: [
      node('Gather', [ONNX_PROBABILITIES_OUTPUT, 'positive_column'], ['positive_probability'], { axis: 1 }),
      node('GreaterOrEqual', ['positive_probability', 'decision_threshold'], ['label_bool']),
      node('Cast', ['label_bool'], [ONNX_LABEL_OUTPUT], { to: INT64 }),
    ],
  };
}

/** The whole model — preprocessing and classifier — as one ONNX graph. Deterministic bytes for equal models. */
export function exportOnnx(model: TrainedModel, features: readonly Feature[], producerVersion: string, threshold: number): Uint8Array {
  const prep = preprocessingNodes(model, features);
  const label = labelNodes(threshold);
  const classifier = classifierNodes(model, prep.output);
  return encodeModel({
    graphName: `heart_disease_${model.name}`,
    nodes: [...prep.nodes, ...classifier.nodes, ...label.nodes],
    initializers: [...prep.initializers, ...classifier.initializers, ...label.initializers],
    inputs: [floatInfo(ONNX_INPUT, ['N', features.length])],
    outputs: [int64Info(ONNX_LABEL_OUTPUT, ['N']), floatInfo(ONNX_PROBABILITIES_OUTPUT, ['N', 2])],
    producerVersion,
    docString: `Heart-disease risk (${model.name}): input '${ONNX_INPUT}' float32 [N, ${features.length}] in feature order ${features
      .map((f) => f.name)
      .join(
        ', ',
      )}; NaN = missing (imputed inside the graph${model.preprocessing.indicatorIndices.length ? ', and flagged by missing-indicator columns' : ''}${model.calibration ? '; probabilities Platt-calibrated' : ''}). Outputs '${ONNX_LABEL_OUTPUT}' (0/1) and '${ONNX_PROBABILITIES_OUTPUT}' [P(no disease), P(disease)].`,
    metadata: {
      feature_names: features.map((f) => f.name).join(','),
      model: model.name,
      input: ONNX_INPUT,
      positive_class_column: '1',
      decision_threshold: String(threshold),
    },
  });
}
