/** Command-line options of `npm run feedback:import`, stated once (parseArgs table, validation, --help, README table). */
import Type from 'typebox';
import type { CliOptions } from '../config/cli-options.js';
import { DEFAULT_PREDICTION_LOG_PATH } from './open-store.js';

export const IMPORT_OPTIONS = {
  file: {
    schema: Type.String({
      pattern: '\\.(csv|json)$',
      description:
        'outcomes to record: CSV with a header `predictionId,outcome,observedAt` (observedAt may be empty), or JSON: an array of ' +
        '`{ predictionId, outcome, observedAt? }` or `{ "outcomes": [...] }`; the format follows the extension',
    }),
    arg: '<file.csv|file.json>',
  },
  'database-url': {
    schema: Type.Optional(
      Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL prediction log (as the API’s DATABASE_URL); unset: SQLite' }),
    ),
    arg: '<url>',
  },
  'sqlite-path': {
    schema: Type.String({ default: DEFAULT_PREDICTION_LOG_PATH, description: 'SQLite prediction log (as the API’s PREDICTION_LOG_PATH)' }),
    arg: '<file>',
  },
  'batch-size': {
    schema: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'outcomes recorded per transaction' }),
    arg: '<n>',
  },
  help: { schema: Type.Boolean({ default: false, description: 'this help' }), short: 'h' },
} satisfies CliOptions;
