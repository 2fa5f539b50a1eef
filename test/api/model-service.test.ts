import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelService, ModelUnavailableError } from '../../src/api/model/service.js';
import { FEATURES } from '../../src/features/feature-schema.js';
import { parseUciText } from '../../src/train/data/uci-file.js';
import { clevelandFile } from '../support/paths.js';
import { testModelDir } from './support/model.js';

describe('ModelService micro-batching', () => {
  const service = new ModelService(testModelDir());
  const rows = parseUciText(clevelandFile, readFileSync(clevelandFile, 'utf8'), FEATURES).rows;
  beforeAll(() => service.load());
  afterAll(() => service.close());

  it('concurrent calls of different sizes, coalesced into shared runs, each get exactly their own rows back', async () => {
    // Reference: one call at a time (nothing to coalesce with).
    const slices = Array.from({ length: 60 }, (_, i) => rows.slice((i * 5) % 290, ((i * 5) % 290) + 1 + (i % 7)));
    const alone: Awaited<ReturnType<ModelService['predict']>>[] = [];
    for (const slice of slices) alone.push(await service.predict(slice));
    // Same calls all in flight at once (one event-loop turn → one model run).
    const together = await Promise.all(slices.map((slice) => service.predict(slice)));
    together.forEach((result, i) => {
      expect(result.labels).toEqual(alone[i]!.labels);
      // float32 kernels may round differently by batch size: equal to ~1e-7, not bit for bit.
      result.probabilities.forEach((p, j) => expect(p).toBeCloseTo(alone[i]!.probabilities[j]!, 6));
      expect(result.probabilityMatrix).toHaveLength(2 * slices[i]!.length);
      result.probabilityMatrix.forEach((p, j) => expect(p).toBeCloseTo(alone[i]!.probabilityMatrix[j]!, 6));
      expect(result.labels).toHaveLength(slices[i]!.length);
    });
  });

  it('after close, predictions are refused as unavailable (503), not crashed', async () => {
    const closing = new ModelService(testModelDir());
    await closing.load();
    const pending = closing.predict([rows[0]!]);
    await closing.close();
    // Work queued before the close still completes on the retired session.
    expect((await pending).labels).toHaveLength(1);
    await expect(closing.predict([rows[0]!])).rejects.toBeInstanceOf(ModelUnavailableError);
  });
});
