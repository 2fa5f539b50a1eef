/** Shapes of API answers as the tests read them. */
export interface Contribution {
  feature: string;
  value: number | null;
  contribution: number;
}

export interface Prediction {
  label: number;
  probability: number;
  riskBand: string;
  modelVersion?: string;
  explanation?: 'linear' | 'occlusion';
  logit: number;
  baselineLogit: number;
  contributions: Contribution[];
}

/** Any JSON answer of the API: single prediction, batch, error, V2 response... fields read per test. */
export interface ApiBody extends Prediction {
  predictions: Prediction[];
  error: string;
  message: string;
  details: { field: string; rule: string; allowed?: string }[];
  [key: string]: unknown;
}
