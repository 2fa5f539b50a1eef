import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/feature-schema.js';
import { PATIENT, postJson, startApp, type RunningApp } from './support/app.js';
import { readCard } from './support/model.js';
import { parseSamples, sampleValue, type Sample } from './support/prometheus-text.js';

describe('GET /metrics (Prometheus text)', () => {
  let server: RunningApp;
  const card = readCard();
  const scrape = async (): Promise<{ text: string; samples: Sample[]; contentType: string | null }> => {
    const res = await fetch(`${server.url}/metrics`);
    const text = await res.text();
    return { text, samples: parseSamples(text), contentType: res.headers.get('content-type') };
  };
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('counts predictions by label and observes each probability, matching the answers given', async () => {
    const before = (await scrape()).samples;
    const patients = [
      PATIENT,
      { age: 41, sex: 0, cp: 2 },
      { age: 70, sex: 1, cp: 4, oldpeak: 4, ca: 3, thal: 7 },
      { age: 35, sex: 0, cp: 3 },
      { ...PATIENT, cp: 4 },
    ];
    const res = await postJson(`${server.url}/predict`, { instances: patients });
    expect(res.status).toBe(200);
    const ones = res.body.predictions.filter((p) => p.label === 1).length;
    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('hd_predictions_total', { label: '1' })).toBe(ones);
    expect(delta('hd_predictions_total', { label: '0' })).toBe(patients.length - ones);
    expect(delta('hd_prediction_probability_count')).toBe(patients.length);
    const sum = res.body.predictions.reduce((s, p) => s + p.probability, 0);
    expect(delta('hd_prediction_probability_sum')).toBeCloseTo(sum, 6);
    // Below 0.5 = predicted 0: the 0.5 bucket (p <= 0.5) holds the label-0 rows plus any p of exactly 0.5.
    const atHalf = res.body.predictions.filter((p) => p.probability === 0.5).length;
    expect(delta('hd_prediction_probability_bucket', { le: '0.5' })).toBe(patients.length - ones + atHalf);
  });

  it('counts requests and latency by method, route pattern and status code', async () => {
    const before = (await scrape()).samples;
    await postJson(`${server.url}/predict`, PATIENT);
    await postJson(`${server.url}/predict`, { age: 500 });
    await fetch(`${server.url}/v2/models/heart-disease/ready`);
    await fetch(`${server.url}/no/such/route/123`);
    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('hd_http_requests_total', { method: 'POST', route: '/predict', status_code: '200' })).toBe(1);
    expect(delta('hd_http_requests_total', { method: 'POST', route: '/predict', status_code: '400' })).toBe(1);
    expect(delta('hd_http_requests_total', { method: 'GET', route: '/v2/models/:name/ready', status_code: '200' })).toBe(1);
    // Unknown URLs share one label value, so scanners cannot blow up the series count.
    expect(delta('hd_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect(after.some((s) => s.labels.route?.includes('/no/such'))).toBe(false);
    expect(delta('hd_http_request_duration_seconds_count', { method: 'POST', route: '/predict', status_code: '200' })).toBe(1);
    expect(
      sampleValue(after, 'hd_http_request_duration_seconds_bucket', { method: 'POST', route: '/predict', status_code: '200', le: '+Inf' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('exports model info, reload counters, drift gauges and process metrics', async () => {
    const { samples, text, contentType } = await scrape();
    expect(contentType).toContain('text/plain');
    expect(sampleValue(samples, 'hd_model_info', { version: card.modelVersion, model: card.selectedModel })).toBe(1);
    expect(samples.filter((s) => s.name === 'hd_model_info')).toHaveLength(1);
    expect(sampleValue(samples, 'hd_model_reloads_total', { result: 'failure' })).toBe(0);
    expect(sampleValue(samples, 'hd_model_reloads_total', { result: 'success' })).toBe(0);
    const psi = samples
      .filter((s) => s.name === 'hd_drift_psi')
      .map((s) => s.labels.feature)
      .sort();
    expect(psi).toEqual(FEATURES.map((f) => f.name).sort());
    const ks = samples
      .filter((s) => s.name === 'hd_drift_ks')
      .map((s) => s.labels.feature)
      .sort();
    expect(ks).toEqual(
      FEATURES.filter((f) => f.type === 'numeric')
        .map((f) => f.name)
        .sort(),
    );
    expect([0, 1, 2]).toContain(sampleValue(samples, 'hd_drift_status'));
    const status = (await (await fetch(`${server.url}/drift/status`)).json()) as {
      status: string;
      features: Record<string, { psi: number }>;
    };
    expect(sampleValue(samples, 'hd_drift_status')).toBe({ ok: 0, warning: 1, drift: 2 }[status.status]);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
  });
});
