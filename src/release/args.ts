/** Command-line options of `npm run deploy`, validated with messages naming the option and the rule. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Type from 'typebox';
import { optionsHelp, parseOptions, type CliOptions } from '../config/cli-options.js';
import { DeployError, EXIT_MEANINGS } from './errors.js';

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
  modelVersion?: string;
  logLines: number;
  rollback: boolean;
  verify: boolean;
}

// RFC 1123 label: what Kubernetes accepts as a namespace or a release-derived object name.
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** The options, stated once: parseArgs' table, defaults, validation messages, USAGE and the README's table. */
export const DEPLOY_OPTIONS = {
  kubeconfig: {
    schema: Type.String({
      description: 'kubeconfig of the cluster: the file `kubectl config view --flatten --minify > kubeconfig` writes',
    }),
    arg: '<file>',
  },
  namespace: {
    schema: Type.String({ maxLength: 63, pattern: DNS_LABEL, description: 'namespace to deploy into (created when missing); a DNS label' }),
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
    schema: Type.String({
      default: '300s',
      description: 'most time to wait for the rollout and for a rollback (helm --wait --timeout), e.g. 300s, 5m or 1m30s',
    }),
    arg: '<duration>',
  },
  release: {
    schema: Type.String({ default: DEFAULT_RELEASE, maxLength: 53, pattern: DNS_LABEL, description: 'Helm release name' }),
    arg: '<name>',
  },
  chart: {
    schema: Type.Optional(Type.String({ description: 'chart directory' })),
    arg: '<dir>',
    defaultText: CHART_IN_REPO,
  },
  'model-version': {
    schema: Type.Optional(Type.String({ description: 'model version the Service must answer with after the rollout (GET /model)' })),
    arg: '<version>',
    defaultText: 'the version the new pods report',
  },
  'log-lines': { schema: Type.Integer({ minimum: 0, default: 20, description: 'last log lines shown per failing pod' }) },
  'no-rollback': {
    schema: Type.Boolean({
      default: false,
      description: 'leave a failed rollout in place (Helm records it as failed) instead of `helm rollback`',
    }),
  },
  'no-verify': {
    schema: Type.Boolean({
      default: false,
      description: 'skip the check through the Service (for clusters whose NetworkPolicy keeps the API server proxy out)',
    }),
  },
  help: { schema: Type.Boolean({ default: false, description: 'this help' }), short: 'h' },
} satisfies CliOptions;

export const USAGE = `Usage: npm run deploy -- --kubeconfig <file> --namespace <ns> --values <file> [--values <file> ...] [options]

Installs or upgrades the chart as a Helm release (helm upgrade --install --wait; skipped when the manifest is
unchanged), prints the rollout live from the watch API, then checks through the Service that the new model answers.
A failed rollout prints the failing pods' events and last log lines and is undone with \`helm rollback\`.
Exit codes: ${Object.entries(EXIT_MEANINGS)
  .map(([code, meaning]) => `${code} ${meaning}`)
  .join(', ')}.

${optionsHelp(DEPLOY_OPTIONS)}`;

// repository (host[:port]/path), then optional :tag, then optional @algo:hex.
// A port belongs to a registry host, which a path follows (`localhost:5000/hd`): `hd:229739168038` is a repository
// and an all-digit tag (an image id's prefix, as the e2e tests pin images), not a host and port.
const IMAGE_REF =
  /^(?<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+(?=\/))?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}))?$/;

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
  if (!existsSync(resolved) || !statSync(resolved).isFile()) throw new DeployError('usage', `--${option} ${file}: no such file`);
  return resolved;
}

export function parseDeployArgs(argv: string[]): DeployOptions {
  const parsed = parseOptions(DEPLOY_OPTIONS, argv);
  if (!parsed.ok) throw new DeployError('usage', `${parsed.problems.join('\n')}\n\n${USAGE}`);
  const v = parsed.values;
  if (v.help) throw new DeployError('usage', USAGE);
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
    ...(v['model-version'] !== undefined ? { modelVersion: v['model-version'] } : {}),
    logLines: v['log-lines'],
    rollback: !v['no-rollback'],
    verify: !v['no-verify'],
  };
}
