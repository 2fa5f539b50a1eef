/**
 * npm run deploy -- --kubeconfig <file> --namespace <ns> --values <file> --image <ref> [--timeout 300s] [--release name]
 * Exit codes: 0 deployed (or nothing to change), 1 rollout failed (rolled back when possible),
 * 2 bad options/kubeconfig/chart, 3 cluster unreachable or credentials/permissions refused, 4 other API errors.
 */
import { USAGE, parseDeployArgs } from './args.js';
import { deploy } from './deploy.js';
import { DeployError, type DeployErrorKind } from './errors.js';

const EXIT_CODES: Record<DeployErrorKind, number> = {
  rollout: 1,
  usage: 2,
  kubeconfig: 2,
  render: 2,
  unreachable: 3,
  unauthorized: 3,
  forbidden: 3,
  api: 4,
};

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    const options = parseDeployArgs(argv);
    const result = await deploy(options);
    console.log(
      result.outcome === 'unchanged'
        ? 'Deploy finished: nothing changed.'
        : `Deploy finished: revision ${result.revision ?? '?'} is serving.`,
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
