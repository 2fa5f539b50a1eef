/**
 * npm run image:smoke [-- --image heart-disease-api:latest] [--model-dir artifacts] [--timing-runs 5]
 * With SMOKE_BASE_URL set (the Dagger smoke-test service), only the HTTP checks run, against that URL.
 * Runs the image smoke and security checks against a real Docker engine, prints PASS/FAIL per check, a verdict,
 * and one JSON line with the measurements (image size, start-to-ready median of N starts). Exit 1 on any FAIL.
 */
import { parseArgs } from 'node:util';
import { dockerEngineStatus } from '../../lib/process.js';
import { IMAGE_NAME } from '../../../src/contract/artifact-contract.js';
import { runHttpSmoke, runSmoke } from './smoke-checks.js';

const { values } = parseArgs({
  options: {
    image: { type: 'string', default: `${IMAGE_NAME}:latest` },
    'model-dir': { type: 'string', default: 'artifacts' },
    'timing-runs': { type: 'string', default: '5' },
  },
});

const baseUrl = process.env.SMOKE_BASE_URL;
if (baseUrl) {
  const checks = await runHttpSmoke({ baseUrl, modelDir: values['model-dir']! }).catch((err: Error) => {
    console.error(`image:smoke failed before the checks could run: ${err.message}`);
    process.exit(1);
  });
  for (const c of checks) console.log(`${c.status.padEnd(11)} ${c.name}  ${c.detail}`);
  const verdict = checks.every((c) => c.status !== 'FAIL') ? 'PASS' : 'FAIL';
  console.log(`VERDICT: ${verdict} (HTTP checks against ${baseUrl})`);
  process.exit(verdict === 'PASS' ? 0 : 1);
}

const engine = await dockerEngineStatus();
if (!engine.available) {
  console.error(`image:smoke: no Docker engine: ${engine.reason}`);
  process.exit(1);
}

try {
  const report = await runSmoke({
    image: values.image!,
    modelDir: values['model-dir']!,
    timingRuns: Number(values['timing-runs']),
    log: (line) => console.error(`[image:smoke] ${line}`),
  });
  const width = Math.max(...report.checks.map((c) => c.name.length));
  for (const c of report.checks) console.log(`${c.status.padEnd(11)} ${c.name.padEnd(width)}  ${c.detail}`);
  console.log(`VERDICT: ${report.verdict}`);
  console.log(
    JSON.stringify({
      image: report.image,
      imageId: report.imageId,
      sizeBytes: report.sizeBytes,
      sizeMB: Number((report.sizeBytes / 1e6).toFixed(1)),
      startToReadyMs: report.startToReadyMs,
      verdict: report.verdict,
      checks: Object.fromEntries(report.checks.map((c) => [c.name, c.status])),
    }),
  );
  process.exit(report.verdict === 'PASS' ? 0 : 1);
} catch (err) {
  console.error(`image:smoke failed before the checks could run: ${(err as Error).message}`);
  process.exit(1);
}
