/**
 * Errors of the deploy CLI, each with a one-line message a person can act on, and the exit code of each kind.
 * `describeKubeError` reads what @kubernetes/client-node throws (ApiException with a Status body, fetch and TLS
 * errors); `describeHelmError` reads the `Error: ...` line the helm binary prints.
 */

/** kind drives the exit code and tells the user which part to fix. */
export type DeployErrorKind = 'usage' | 'kubeconfig' | 'chart' | 'unreachable' | 'unauthorized' | 'forbidden' | 'api' | 'rollout';

/** The documented exit codes (README, `npm run deploy -- --help`). */
export const EXIT_CODES: Record<DeployErrorKind, number> = {
  rollout: 1,
  usage: 2,
  kubeconfig: 2,
  chart: 2,
  unreachable: 3,
  unauthorized: 3,
  forbidden: 3,
  api: 4,
};

export const EXIT_MEANINGS = {
  0: 'deployed, or nothing to change',
  1: 'rollout failed (rolled back unless --no-rollback or a first install)',
  2: 'bad options, kubeconfig or chart',
  3: 'cluster unreachable, credentials rejected or a permission missing',
  4: 'any other API or Helm error',
} as const;

export class DeployError extends Error {
  constructor(
    readonly kind: DeployErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

const PERMISSIONS_HINT =
  'the kubeconfig user needs the rights of the namespace "edit" role (Helm keeps its release records in Secrets there)';
const UNREACHABLE_HINT = 'is the cluster running (minikube status) and is the kubeconfig server address right?';

/** The Status message of an API error body (JSON text or parsed), if any. */
function statusMessage(body: unknown): { message?: string; reason?: string } | undefined {
  try {
    const status: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    return status && typeof status === 'object' ? status : undefined;
  } catch {
    return { message: String(body) };
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|DEPTH_ZERO/;

function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const record = current as { code?: unknown; errno?: unknown; cause?: unknown };
    if (typeof record.code === 'string') return record.code;
    if (typeof record.errno === 'string') return record.errno;
    current = record.cause;
  }
  return /\b(E[A-Z_]{4,}|[A-Z_]*CERT[A-Z_]*)\b/.exec(err instanceof Error ? err.message : String(err))?.[1];
}

/** What went wrong talking to the API server at `server` while doing `action` (e.g. "list pods"). */
export function describeKubeError(err: unknown, server: string, action: string): DeployError {
  if (err instanceof DeployError) return err;
  const httpCode = (err as { code?: unknown } | null)?.code;
  if (typeof httpCode === 'number') {
    const status = statusMessage((err as { body?: unknown }).body);
    const detail = (status?.message ?? (err instanceof Error ? err.message : String(err))).split('\n')[0];
    if (httpCode === 401) {
      // The body says no more than "Unauthorized": the token or certificate is unknown or expired.
      return new DeployError(
        'unauthorized',
        `the API server ${server} rejected the kubeconfig credentials (401 Unauthorized) while trying to ${action}`,
      );
    }
    if (httpCode === 403) return new DeployError('forbidden', `not allowed to ${action} (403): ${detail}; ${PERMISSIONS_HINT}`);
    return new DeployError('api', `${action} failed with HTTP ${httpCode}${status?.reason ? ` ${status.reason}` : ''}: ${detail}`);
  }
  const code = errorCode(err);
  if (code && NETWORK_CODES.has(code)) {
    return new DeployError(
      'unreachable',
      `cannot reach the Kubernetes API server at ${server} (${code}) while trying to ${action}: ${UNREACHABLE_HINT}`,
    );
  }
  if (code && TLS_CODES.test(code)) {
    return new DeployError(
      'unreachable',
      `TLS handshake with ${server} failed (${code}) while trying to ${action}: the kubeconfig's certificate-authority does not match the server`,
    );
  }
  return new DeployError('api', `${action} failed: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
}

// Helm's errors come from client-go and its own actions; these patterns sort them by who must act.
const HELM_ERROR_KINDS: Array<[DeployErrorKind, RegExp]> = [
  ['unauthorized', /\bUnauthorized\b|must be logged in|provide credentials/],
  ['forbidden', /is forbidden: User /],
  ['unreachable', /connection refused|no such host|i\/o timeout|network is unreachable|dial tcp|x509:|tls: /],
  ['rollout', /context deadline exceeded|context canceled|timed out waiting for the condition/],
  [
    'chart',
    /parse error|template: |execution error|values don't meet the specifications|Chart\.yaml|chart requires kubeVersion|unable to build kubernetes objects/,
  ],
];

/** helm's stderr -> the kind of failure and its `Error:` line (the last one, which names the cause). */
export function describeHelmError(stderr: string, action: string): DeployError {
  const lines = stderr.split('\n').map((line) => line.trim());
  const errorLine = lines.filter((line) => line.startsWith('Error:')).pop() ?? lines.filter(Boolean).pop() ?? '(no output)';
  const detail = errorLine.replace(/^Error:\s*/, '');
  const kind = HELM_ERROR_KINDS.find(([, pattern]) => pattern.test(detail))?.[0] ?? 'api';
  const hint = kind === 'forbidden' ? `; ${PERMISSIONS_HINT}` : kind === 'unreachable' ? `; ${UNREACHABLE_HINT}` : '';
  return new DeployError(kind, `${action} failed: ${detail}${hint}`);
}
