import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/api/app.js';
import { loadConfig, type ApiConfig } from '../../../src/api/config.js';
import { testModelDir } from './model.js';
import type { ApiBody } from './types.js';
import { EXAMPLE_PATIENT } from '../../../src/features/feature-schema.js';

export interface RunningApp {
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  url: string;
  close: () => Promise<void>;
}

/**
 * The API's configuration for tests: the test model, quiet logs, and load shedding off unless a test turns it on.
 * An in-process app shares its event loop with the test runner, and on a loaded machine (a CI run with a cluster
 * beside it) any stall longer than under-pressure's 1 s sampling interval reads as an infinite delay and sheds
 * requests whatever the limit; pressure.test.ts tests shedding explicitly.
 */
export function testConfig(env: Record<string, string> = {}): ApiConfig {
  // The prediction log in memory unless a test names a file or database: nothing left behind, nothing shared.
  return loadConfig({
    MODEL_DIR: testModelDir(),
    LOG_LEVEL: 'silent',
    UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    PREDICTION_LOG_PATH: ':memory:',
    ...env,
  });
}

/** Build the real app on the test model (env overrides allowed) and listen on 127.0.0.1 on a free port. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await buildApp(testConfig(env));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** Cleveland row 1 in API form (the schema's example patient). */
export const PATIENT: Record<string, number> = { ...EXAMPLE_PATIENT };

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: ApiBody; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed as ApiBody, headers: res.headers };
}
