/**
 * npm run deploy -- --kubeconfig <file> --namespace <ns> --values <file> [--image <ref>] [--timeout 300s] [--release name]
 * Exit codes: errors.ts EXIT_MEANINGS (0 ok, 1 rollout failed, 2 bad input, 3 unreachable or not allowed, 4 other).
 */
import { USAGE, parseDeployArgs } from './args.js';
import { deploy } from './deploy.js';
import { DeployError, EXIT_CODES } from './errors.js';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    const result = await deploy(parseDeployArgs(argv));
    const model = result.modelVersion ? `, serving model ${result.modelVersion}` : '';
    console.log(
      result.outcome === 'unchanged'
        ? `Deploy finished: nothing changed (revision ${result.revision}${model}).`
        : `Deploy finished: revision ${result.revision} is deployed${model}.`,
    );
    return 0;
  } catch (err) {
    if (err instanceof DeployError) {
      console.error(`deploy failed [${err.kind}]: ${err.message}`);
      return EXIT_CODES[err.kind];
    }
    console.error(`deploy failed: ${(err as Error).message ?? String(err)}`);
    return 4;
  }
}

process.exitCode = await main(process.argv.slice(2));
