/** Command-line options of `npm run deploy`, validated with messages naming the option and the rule. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Type from 'typebox';
import { optionsHelp, parseOptions, type CliOptions } from '../config/cli-options.js';
import { DeployError } from './errors.js';

export const FIELD_MANAGER = 'heart-disease-mlops';
export const DEFAULT_RELEASE = 'heart-disease-api';
const CHART_IN_REPO = 'deploy/helm/heart-disease-api';
export const DEFAULT_CHART = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..', CHART_IN_REPO);

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

/** The options, stated once: parseArgs' table, defaults, validation messages, USAGE and the README's table. */
export const DEPLOY_OPTIONS = {
  kubeconfig: {
    schema: Type.String({
      description: 'kubeconfig of the cluster: the file `kubectl config view --flatten --minify > kubeconfig` writes',
    }),
    arg: '<file>',
  },
  namespace: {
    schema: Type.String({ description: 'namespace to deploy into (created when missing); a DNS label of at most 63 characters' }),
    short: 'n',
    arg: '<ns>',
  },
  values: {
    schema: Type.Array(Type.String(), {
      minItems: 1,
      description: 'Helm values file, e.g. `deploy/helm/heart-disease-api/values-dev.yaml`; later files override earlier ones',
    }),
    short: 'f',
    arg: '<file>',
  },
  image: {
    schema: Type.Optional(Type.String({ description: "image to run, repository[:tag][@sha256:digest]; unset: the values files' image" })),
    arg: '<ref>',
    defaultText: "the values files' image",
  },
  timeout: {
    schema: Type.String({ default: '300s', description: 'most time to wait for the rollout, e.g. 300s, 5m or 1m30s' }),
    arg: '<duration>',
  },
  release: {
    schema: Type.String({
      default: DEFAULT_RELEASE,
      description: 'Helm release name; lower-case letters, digits and -, at most 53 characters',
    }),
    arg: '<name>',
  },
  chart: {
    schema: Type.Optional(Type.String({ description: 'chart directory' })),
    arg: '<dir>',
    defaultText: CHART_IN_REPO,
  },
  'poll-interval': {
    schema: Type.String({ default: '2s', description: 'how often the rollout is checked' }),
    arg: '<duration>',
  },
  'log-lines': { schema: Type.Integer({ minimum: 0, default: 20, description: 'last log lines shown per failing pod' }) },
  'no-rollback': { schema: Type.Boolean({ default: false, description: 'leave a failed rollout in place instead of rolling back' }) },
  help: { schema: Type.Boolean({ default: false, description: 'this help' }), short: 'h' },
} satisfies CliOptions;

export const USAGE = `Usage: npm run deploy -- --kubeconfig <file> --namespace <ns> --values <file> [--values <file> ...] [options]

Renders the Helm chart (helm template), applies it with server-side apply (field manager ${FIELD_MANAGER}),
waits for the Deployment rollout like \`kubectl rollout status\`, and on failure prints the failing pods' events
and logs and rolls back to the previous ReplicaSet's pod template like \`kubectl rollout undo\`.

${optionsHelp(DEPLOY_OPTIONS)}`;

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
  const parsed = parseOptions(DEPLOY_OPTIONS, argv);
  if (!parsed.ok) throw new DeployError('usage', `${parsed.problems.join('\n')}\n\n${USAGE}`);
  const v = parsed.values;
  if (v.help) throw new DeployError('usage', USAGE);
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
  const chart = v.chart === undefined ? DEFAULT_CHART : path.resolve(v.chart);
  if (!existsSync(path.join(chart, 'Chart.yaml'))) throw new DeployError('usage', `--chart ${v.chart}: no Chart.yaml in that directory`);
  return {
    kubeconfig: requireFile(v.kubeconfig, 'kubeconfig'),
    namespace: v.namespace,
    valuesFiles: v.values.map((file) => requireFile(file, 'values')),
    ...(v.image !== undefined ? { image: parseImageRef(v.image) } : {}),
    release: v.release,
    chart,
    timeoutMs: parseDuration(v.timeout, 'timeout'),
    pollIntervalMs: parseDuration(v['poll-interval'], 'poll-interval'),
    logLines: v['log-lines'],
    rollback: !v['no-rollback'],
  };
}
