/**
 * Gate for tests that need a real external component (MLflow server, Prometheus, Docker engine, Chromium, Helm).
 * Outside CI a missing component skips the suite with a printed reason; in CI (CI=true) nothing may skip,
 * so a missing component fails loudly instead.
 */
export function realComponent(name: string, available: boolean, reason: string): boolean {
  if (available) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${name} is required in CI but is not available: ${reason}`);
  }
  console.warn(`[skip] ${name} not available: ${reason}`);
  return false;
}
