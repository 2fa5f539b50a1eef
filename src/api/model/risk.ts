/**
 * Risk bands on P(disease), documented in the README and served by GET /model for the model being served:
 *   low      p < 0.2
 *   moderate 0.2 <= p < threshold
 *   high     p >= threshold   (the decision threshold in model.json, so "high" is exactly a predicted label 1)
 */
export const RISK_BAND_NAMES = ['low', 'moderate', 'high'] as const;
export type RiskBand = (typeof RISK_BAND_NAMES)[number];

/** Below this P(disease) a patient is low risk; a presentation choice, unlike the model's threshold. */
const LOW_RISK_BELOW = 0.2;

export interface RiskBandRange {
  band: RiskBand;
  from: number;
  to: number;
}

/** The bands for a model whose decision threshold is `threshold` (a threshold below 0.2 leaves 'moderate' empty). */
export function riskBands(threshold: number): RiskBandRange[] {
  const low = Math.min(LOW_RISK_BELOW, threshold);
  return [
    { band: 'low', from: 0, to: low },
    { band: 'moderate', from: low, to: threshold },
    { band: 'high', from: threshold, to: 1 },
  ];
}

export function riskBand(probability: number, threshold: number): RiskBand {
  if (probability >= threshold) return 'high';
  return probability < LOW_RISK_BELOW ? 'low' : 'moderate';
}

/** The bands in words, for API docs that hold for any model. */
export const RISK_BANDS_TEXT = `low: p < ${LOW_RISK_BELOW}; moderate: ${LOW_RISK_BELOW} <= p < threshold; high: p >= threshold (the model's decision threshold, GET /model)`;
