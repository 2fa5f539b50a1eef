/**
 * npm run image:build [-- --model-dir artifacts] [--base-image node:24-bookworm-slim] [--target runtime|trainer]
 * Builds heart-disease-api:<model version> and :latest from the Dockerfile with the trained model baked in;
 * --target trainer (npm run image:build:trainer) builds heart-disease-trainer:<package version> and :latest instead.
 * Env: BASE_IMAGE, EXTRA_CA_CERT (PEM bundle for npm inside the build; default NODE_EXTRA_CA_CERTS, then SSL_CERT_FILE).
 */
import { parseArgs } from 'node:util';
import { buildImage, buildTrainerImage, defaultExtraCaCert } from './build-image.js';
import { dockerEngineStatus } from '../../lib/process.js';

const { values } = parseArgs({
  options: {
    'model-dir': { type: 'string', default: process.env.MODEL_DIR_CONTEXT ?? 'artifacts' },
    'base-image': { type: 'string', default: process.env.BASE_IMAGE },
    repository: { type: 'string', default: process.env.IMAGE_REPOSITORY },
    target: { type: 'string', default: 'runtime' },
    quiet: { type: 'boolean', default: false },
  },
});
if (values.target !== 'runtime' && values.target !== 'trainer') {
  console.error(`image:build: --target must be runtime or trainer, got '${values.target}'`);
  process.exit(2);
}

const engine = await dockerEngineStatus();
if (!engine.available) {
  console.error(`image:build: no Docker engine: ${engine.reason}`);
  process.exit(1);
}

const extraCaCert = defaultExtraCaCert();
const log = (line: string) => console.error(`[image:build] ${line}`);
const echo = values.quiet ? undefined : (chunk: string) => process.stderr.write(chunk);

if (values.target === 'trainer') {
  try {
    const result = await buildTrainerImage({ baseImage: values['base-image'], repository: values.repository, extraCaCert, log, echo });
    log(`built ${result.tags.join(', ')} in ${result.buildSeconds.toFixed(1)} s`);
    console.log(
      JSON.stringify({
        tags: result.tags,
        baseImage: result.baseImage,
        buildSeconds: Number(result.buildSeconds.toFixed(1)),
        sizeMB: Number((result.sizeBytes / 1e6).toFixed(1)),
      }),
    );
    process.exit(0);
  } catch (err) {
    console.error(`image:build failed: ${(err as Error).message}`);
    process.exit(1);
  }
}

try {
  const result = await buildImage({
    modelDir: values['model-dir']!,
    baseImage: values['base-image'],
    repository: values.repository,
    extraCaCert: process.env.EXTRA_CA_CERT ?? process.env.NODE_EXTRA_CA_CERTS ?? process.env.SSL_CERT_FILE ?? null,
    log: (line) => console.error(`[image:build] ${line}`),
    echo: values.quiet ? undefined : (chunk) => process.stderr.write(chunk),
  });
  console.error(`[image:build] built ${result.tags.join(', ')} in ${result.buildSeconds.toFixed(1)} s`);
  console.log(
    JSON.stringify({
      tags: result.tags,
      modelVersion: result.modelVersion,
      baseImage: result.baseImage,
      baseImageSeconds: Number(result.baseImageSeconds.toFixed(1)),
      buildSeconds: Number(result.buildSeconds.toFixed(1)),
      sizeBytes: result.sizeBytes,
      sizeMB: Number((result.sizeBytes / 1e6).toFixed(1)),
    }),
  );
} catch (err) {
  console.error(`image:build failed: ${(err as Error).message}`);
  process.exit(1);
}
