/**
 * Checks an environment some deployment gives the API (the Helm chart's, the compose file's) against the API's own
 * schema: every name must be a variable API_ENV declares (the API ignores any other, so a misspelt name would
 * silently fall back to the default), and together they must pass loadConfig.
 */
import { API_ENV, ConfigError, loadConfig } from '../../src/api/config.js';

export function apiEnvProblems(env: Record<string, string>): string[] {
  const unknown = Object.keys(env)
    .filter((name) => !(name in API_ENV.properties))
    .map((name) => `${name}: not a variable of the API (API_ENV in src/api/config.ts)`);
  try {
    loadConfig(env);
    return unknown;
  } catch (error) {
    if (error instanceof ConfigError) return [...unknown, ...error.problems];
    throw error;
  }
}
