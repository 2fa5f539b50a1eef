/** Helpers of the end-to-end deploy tests: the deploy CLI as a user runs it, Helm's record, exec in a pod, kubeconfigs. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Exec, type KubeConfig } from '@kubernetes/client-node';
import { findHelm } from '../../../src/release/helm.js';
import { runProcess } from '../../../scripts/lib/process.js';
import { repoRoot } from '../../support/paths.js';
import { runTs, type CliResult } from '../../support/run-cli.js';

export const chartDir = path.join(repoRoot, 'deploy/helm/heart-disease-api');
export const devValues = path.join(chartDir, 'values-dev.yaml');
export const prodValues = path.join(chartDir, 'values-prod.yaml');
export const RELEASE = 'heart-disease-api';
/** Where NodePorts are reached: the host itself here; the k3s service's alias under `dagger call e2e`. */
export const nodeAddress = process.env.E2E_NODE_ADDRESS ?? '127.0.0.1';

export interface DeployRun extends CliResult {
  output: string;
}

/** `npm run deploy` (src/release/cli.ts) with these arguments; its whole output is echoed for the CI log. */
export async function deployCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<DeployRun> {
  const result = await runTs('src/release/cli.ts', args, env, 600_000);
  const output = `${result.stdout}${result.stderr}`;
  console.log(`$ npm run deploy -- ${args.join(' ')}\n${output.trimEnd()}\n(exit ${result.code})`);
  return { ...result, output };
}

export interface HelmRevision {
  revision: number;
  status: string;
  description: string;
}

export async function helmHistory(kubeconfig: string, namespace: string, release = RELEASE): Promise<HelmRevision[]> {
  const helm = findHelm();
  if (!helm) throw new Error('helm not found');
  const result = await runProcess(helm, ['history', release, '--kubeconfig', kubeconfig, '--namespace', namespace, '--output', 'json']);
  if (result.code !== 0) throw new Error(`helm history: ${result.stderr}`);
  return JSON.parse(result.stdout) as HelmRevision[];
}

export async function helmUninstall(kubeconfig: string, namespace: string, release = RELEASE): Promise<void> {
  const helm = findHelm();
  if (helm)
    await runProcess(helm, ['uninstall', release, '--kubeconfig', kubeconfig, '--namespace', namespace, '--wait', '--timeout', '60s']);
}

/** Runs `command` in a pod's container, like `kubectl exec`; resolves with stdout, rejects on a non-zero exit. */
export function execInPod(kc: KubeConfig, namespace: string, pod: string, container: string, command: string[]): Promise<string> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  return new Promise((resolve, reject) => {
    void new Exec(kc)
      .exec(
        namespace,
        pod,
        container,
        command,
        sink((t) => (stdout += t)),
        sink((t) => (stderr += t)),
        null,
        false,
        (status) => {
          if (status.status === 'Success') resolve(stdout);
          else reject(new Error(`exec ${command.join(' ')}: ${status.message ?? status.status}; stderr: ${stderr}`));
        },
      )
      .catch(reject);
  });
}

/** A kubeconfig for `server` (trusting `caData`) that authenticates with a bearer token. */
export function tokenKubeconfig(file: string, server: string, caData: string | undefined, token: string): string {
  const cluster = caData
    ? `{server: "${server}", certificate-authority-data: "${caData}"}`
    : `{server: "${server}", insecure-skip-tls-verify: true}`;
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- {name: target, cluster: ${cluster}}`,
      'users:',
      `- {name: deployer, user: {token: "${token}"}}`,
      'contexts:',
      '- {name: target, context: {cluster: target, user: deployer}}',
      'current-context: target',
      '',
    ].join('\n'),
  );
  return file;
}
