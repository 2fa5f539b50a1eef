import { DriftMonitor } from '../drift/monitor.js';
import { FEATURES } from '../features/feature-schema.js';
import type { ModelCard } from './model/card.js';
import type { DriftSnapshot } from './plugins/metrics.js';

/**
 * The drift monitor of the model being served. A reload replaces it (new reference distributions, fresh window), so
 * routes reach it through this holder rather than keeping their own reference.
 */
export class DriftHolder {
  private current: DriftMonitor;

  constructor(
    private readonly windowSize: number,
    card: ModelCard,
  ) {
    this.current = this.build(card);
  }

  private build(card: ModelCard): DriftMonitor {
    return new DriftMonitor(card.reference, FEATURES, { windowSize: this.windowSize });
  }

  get monitor(): DriftMonitor {
    return this.current;
  }

  reset(card: ModelCard): void {
    this.current = this.build(card);
  }

  /** Validated, predicted rows (schema order, NaN = missing). */
  observe(rows: number[][]): void {
    this.current.observe(rows);
  }

  snapshot(): DriftSnapshot {
    return this.current.status() as DriftSnapshot;
  }
}
