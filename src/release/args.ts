/** Command-line options of `npm run deploy`, validated with messages naming the option and the rule. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DeployError } from './errors.js';

export const FIELD_MANAGER = 'heart-disease-mlops';
export const DEFAULT_RELEASE = 'heart-disease-api';
export const DEFAULT_CHART = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/helm/heart-disease-api');

export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

export interface DeployOptions {
  kubeconfig: string;
  namespace: string;
  valuesFiles: string[];
  image?: ImageRef;
  release: string;
  chart: string;
  timeoutMs: number;
  pollIntervalMs: number;
  logLines: number;
  rollback: boolean;
}

export const USAGE = `Usage: npm run deploy -- --kubeconfig <file> --namespace <ns> --values <file> [--values <file> ...]
                         [--image <repository[:tag][@sha256:digest]>] [--timeout 300s] [--release ${DEFAULT_RELEASE}]
                         [--chart <dir>] [--no-rollback]

Renders the Helm chart (helm template), applies it with server-side apply (field manager ${FIELD_MANAGER}),
waits for the Deployment rollout like \`kubectl rollout status\`, and on failure prints the failing pods' events
and logs and rolls back to the previous ReplicaSet's pod template like \`kubectl rollout undo\`.`;

// RFC 1123 label: what Kubernetes accepts as a namespace or a release-derived object name.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// repository (host[:port]/path), then optional :tag, then optional @algo:hex.
const IMAGE_REF =
  /^(?<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}))?$/;

/** "300s", "5m", "1m30s", "90" (seconds) -> milliseconds. */
export function parseDuration(text: string, option: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(trimmed);
  if (!match || trimmed === '') {
    throw new DeployError('usage', `--${option} "${text}" is not a duration: use e.g. 300s, 5m or 1m30s`);
  }
  const [, h = '0', m = '0', s = '0', ms = '0'] = match;
  const total = ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + Number(ms);
  if (total <= 0) throw new DeployError('usage', `--${option} must be greater than zero, got "${text}"`);
  return total;
}

export function parseImageRef(text: string): ImageRef {
  const match = IMAGE_REF.exec(text.trim());
  if (!match?.groups?.repository) {
    throw new DeployError(
      'usage',
      `--image "${text}" is not an image reference: expected repository[:tag][@sha256:digest], lower-case repository, e.g. heart-disease-api:1.2.0`,
    );
  }
  const { repository, tag, digest } = match.groups;
  return { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

function requireFile(file: string, option: string): string {
  const resolved = path.resolve(file);
  if (!existsSync(resolved) || !statSync(resolved).isFile()) {
    throw new DeployError('usage', `--${option} ${file}: no such file`);
  }
  return resolved;
}

export function parseDeployArgs(argv: string[]): DeployOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        values: { type: 'string', short: 'f', multiple: true },
        image: { type: 'string' },
        timeout: { type: 'string', default: '300s' },
        release: { type: 'string', default: DEFAULT_RELEASE },
        chart: { type: 'string', default: DEFAULT_CHART },
        'poll-interval': { type: 'string', default: '2s' },
        'log-lines': { type: 'string', default: '20' },
        'no-rollback': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new DeployError('usage', `${(err as Error).message}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) throw new DeployError('usage', USAGE);
  if (!v.kubeconfig)
    throw new DeployError(
      'usage',
      `--kubeconfig is required: the file \`kubectl config view --flatten --minify > kubeconfig\` writes\n\n${USAGE}`,
    );
  if (!v.namespace) throw new DeployError('usage', `--namespace is required\n\n${USAGE}`);
  if (!DNS_LABEL.test(v.namespace) || v.namespace.length > 63) {
    throw new DeployError(
      'usage',
      `--namespace "${v.namespace}" is not a valid namespace: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63 characters`,
    );
  }
  if (!DNS_LABEL.test(v.release) || v.release.length > 53) {
    throw new DeployError(
      'usage',
      `--release "${v.release}" is not a valid release name: lower-case letters, digits and '-', at most 53 characters`,
    );
  }
  if (!v.values || v.values.length === 0)
    throw new DeployError('usage', `--values is required (e.g. deploy/helm/heart-disease-api/values-dev.yaml)\n\n${USAGE}`);
  const chart = path.resolve(v.chart);
  if (!existsSync(path.join(chart, 'Chart.yaml'))) throw new DeployError('usage', `--chart ${v.chart}: no Chart.yaml in that directory`);
  const logLines = Number(v['log-lines']);
  if (!Number.isInteger(logLines) || logLines < 0)
    throw new DeployError('usage', `--log-lines must be a non-negative integer, got "${v['log-lines']}"`);
  return {
    kubeconfig: requireFile(v.kubeconfig, 'kubeconfig'),
    namespace: v.namespace,
    valuesFiles: v.values.map((file) => requireFile(file, 'values')),
    ...(v.image !== undefined ? { image: parseImageRef(v.image) } : {}),
    release: v.release,
    chart,
    timeoutMs: parseDuration(v.timeout, 'timeout'),
    pollIntervalMs: parseDuration(v['poll-interval'], 'poll-interval'),
    logLines,
    rollback: !v['no-rollback'],
  };
}
