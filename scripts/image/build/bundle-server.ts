/**
 * Bundle the compiled API (tsc output dist/api/server.js) and its pure-JS dependencies into one ESM file for the
 * container image. Why: a cold start otherwise spends about a third of its time resolving and reading hundreds of
 * small CommonJS files (~1.5 s of a ~4.5 s start on this loaded 2-core machine). The bundle is placed at
 * dist/api/server.js in the image, so the paths the code derives from import.meta.url (../../package.json,
 * ../../data/feature-schema.json) stay the same.
 *
 * External (loaded from node_modules as usual): onnxruntime-node (native addon), and the swagger plugins, which
 * read files relative to their own install directory (Swagger UI's static assets, their package.json).
 * pino's worker transports would also need their files, but the API logs JSON to stdout and configures none.
 *
 * Beside the bundle it writes runtime-packages.json: the packages the bundle imports at run time (its external,
 * non-built-in imports from esbuild's metafile); the image keeps only those and what they need (runtime-packages.ts).
 *
 * Usage: tsx scripts/image/build/bundle-server.ts <entry> <outfile>
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { ABSENT_OPTIONAL_PACKAGES, EXTERNAL_PACKAGES } from './bundle-server-options.js';
import { externalPackages } from './runtime-packages.js';

const [entry = 'dist/api/server.js', outfile = 'bundle/api/server.js'] = process.argv.slice(2);

const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  external: [...EXTERNAL_PACKAGES],
  // Bundled CommonJS dependencies call require() for Node built-ins; ESM has no require, so provide one.
  banner: {
    js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

const runtimePackages = externalPackages(result.metafile).filter((name) => !ABSENT_OPTIONAL_PACKAGES.includes(name));
writeFileSync(path.join(path.dirname(outfile), 'runtime-packages.json'), `${JSON.stringify(runtimePackages)}\n`);

const inputs = Object.keys(result.metafile.inputs).length;
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(
  `bundled ${inputs} modules from ${entry} into ${outfile} (${(bytes / 1e6).toFixed(1)} MB); run-time imports: ${runtimePackages.join(', ')}`,
);
