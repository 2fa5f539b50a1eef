/**
 * Live performance per model version over two sliding windows of labelled predictions: the most recent
 * `windowCount`, and those observed in the last `windowDays`. Reads the store; the maths is performance.ts.
 */
import { windowPerformance, type WindowPerformance } from './performance.js';
import type { PredictionStore } from './store.js';

export interface PerformanceWindows {
  windowCount: number;
  windowDays: number;
  minCount: number;
}

/** The serving model's training cross-validation ROC-AUC, for comparison. */
export interface TrainingAuc {
  mean: number;
  std: number;
  /** mean − 2·std: live AUC below it is outside what training saw across folds. */
  lowerBound: number;
}

export interface ModelPerformance {
  modelVersion: string;
  serving: boolean;
  /** Only for the serving model (its model card is loaded); null otherwise or when training gave none. */
  trainingAuc: TrainingAuc | null;
  byCount: WindowPerformance;
  byTime: WindowPerformance & { since: string };
}

export interface PerformanceReport {
  generatedAt: string;
  windows: PerformanceWindows;
  servingVersion: string | null;
  models: ModelPerformance[];
}

export function trainingAuc(mean: number | null | undefined, std: number | null | undefined): TrainingAuc | null {
  if (typeof mean !== 'number' || !Number.isFinite(mean)) return null;
  const spread = typeof std === 'number' && Number.isFinite(std) ? std : 0;
  return { mean, std: spread, lowerBound: mean - 2 * spread };
}

const DAY_MS = 86_400_000;

export async function performanceReport(
  store: PredictionStore,
  windows: PerformanceWindows,
  serving: { version: string; trainingAuc: TrainingAuc | null } | null,
  now = new Date(),
): Promise<PerformanceReport> {
  const versions = new Set(await store.labelledVersions());
  if (serving) versions.add(serving.version);
  const since = new Date(now.getTime() - windows.windowDays * DAY_MS).toISOString();
  const models: ModelPerformance[] = [];
  for (const modelVersion of [...versions].sort()) {
    const [recent, observed] = await Promise.all([
      store.labelled({ modelVersion, limit: windows.windowCount }),
      store.labelled({ modelVersion, since }),
    ]);
    const isServing = serving?.version === modelVersion;
    models.push({
      modelVersion,
      serving: isServing,
      trainingAuc: isServing ? serving!.trainingAuc : null,
      byCount: windowPerformance(recent, windows.minCount),
      byTime: { ...windowPerformance(observed, windows.minCount), since },
    });
  }
  // The serving model first, then the others by version.
  models.sort((a, b) => Number(b.serving) - Number(a.serving));
  return { generatedAt: now.toISOString(), windows, servingVersion: serving?.version ?? null, models };
}
