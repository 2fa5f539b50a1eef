/**
 * The npm scripts the trainer image runs (npm run retrain, npm run retrain:trigger), as the deployment files name them:
 * the Dagger module, the chart's CronJob, compose's trainer service, the trainer image test. They come with the
 * retraining work (issue 14); until package.json defines them, checks that need them skip with this reason (and fail
 * in CI, like any missing component).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';
import { realComponent } from './real-component.js';

export const TRAINER_SCRIPTS = ['retrain', 'retrain:trigger'] as const;

export function packageScripts(): Record<string, string> {
  return (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
}

/** True when package.json defines every trainer script; otherwise skips (prints why) or, with CI=true, throws. */
export function trainerScriptsDefined(): boolean {
  const missing = TRAINER_SCRIPTS.filter((name) => !(name in packageScripts()));
  return realComponent(
    `npm scripts ${TRAINER_SCRIPTS.join(', ')}`,
    missing.length === 0,
    `package.json does not define ${missing.join(', ')} yet (the retraining work, issue 14)`,
  );
}
