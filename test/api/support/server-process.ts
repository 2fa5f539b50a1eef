import { startApiProcess, type ApiProcess } from '../../../scripts/lib/api-process.js';

export type ServerProcess = ApiProcess;

/**
 * The real entry point (src/api/server.ts) as a child process on 127.0.0.1; resolves once /ready answers 200 and a
 * sheddable route (/model) does too: on a busy machine the start-up work (tsx transforms, schema compilation) can
 * stall the first load-shedding sample, and tests should start from steady state.
 */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  // Load shedding off unless a test turns it on: see testConfig in app.ts (a stall of the loaded machine is not overload).
  return startApiProcess({
    // The prediction log in memory unless a test names a file or database (PREDICTION_LOG_PATH, DATABASE_URL).
    env: { LOG_LEVEL: 'info', API_KEYS: '', UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', PREDICTION_LOG_PATH: ':memory:', ...env },
    readyPaths: ['/ready', '/model'],
  });
}
