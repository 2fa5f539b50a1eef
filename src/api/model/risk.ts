/**
 * Risk bands on P(disease), documented in the README and served by GET /model:
 *   low      p < 0.2
 *   moderate 0.2 <= p < 0.5
 *   high     p >= 0.5   (0.5 is also the model's decision threshold, so every "high" is predicted label 1)
 */
export const RISK_BANDS = [
  { band: 'low', from: 0, to: 0.2 },
  { band: 'moderate', from: 0.2, to: 0.5 },
  { band: 'high', from: 0.5, to: 1 },
] as const;

export type RiskBand = (typeof RISK_BANDS)[number]['band'];

export function riskBand(probability: number): RiskBand {
  if (probability < 0.2) return 'low';
  if (probability < 0.5) return 'moderate';
  return 'high';
}
