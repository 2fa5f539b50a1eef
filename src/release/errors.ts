/**
 * Errors of the deploy CLI, each with a message a person can act on. `describeKubeError` turns what
 * @kubernetes/client-node throws (ApiException with a Status body, node-fetch FetchError, TLS errors) into one.
 */

/** kind drives the exit code and tells the user which part to fix. */
export type DeployErrorKind = 'usage' | 'kubeconfig' | 'render' | 'unreachable' | 'unauthorized' | 'forbidden' | 'api' | 'rollout';

export class DeployError extends Error {
  constructor(
    readonly kind: DeployErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

function statusBody(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      return statusBody(JSON.parse(body));
    } catch {
      return { message: body };
    }
  }
  if (body && typeof body === 'object') return body as StatusBody;
  return undefined;
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
  const message = err instanceof Error ? err.message : String(err);
  return /\b(E[A-Z_]{4,}|[A-Z_]*CERT[A-Z_]*)\b/.exec(message)?.[1];
}

/** What went wrong talking to the API server at `server` while doing `action` (e.g. "apply Deployment/x"). */
export function describeKubeError(err: unknown, server: string, action: string): DeployError {
  if (err instanceof DeployError) return err;
  const httpCode = (err as { code?: unknown } | null)?.code;
  if (typeof httpCode === 'number') {
    const status = statusBody((err as { body?: unknown }).body);
    const detail = status?.message ?? (err instanceof Error ? err.message : String(err));
    if (httpCode === 401) {
      return new DeployError(
        'unauthorized',
        `the API server ${server} rejected the kubeconfig credentials (401 Unauthorized) while trying to ${action}: ${detail}`,
      );
    }
    if (httpCode === 403) {
      return new DeployError(
        'forbidden',
        `missing permission to ${action} (403 Forbidden): ${detail}. ` +
          'Grant the kubeconfig user get/list/patch on the chart objects and get/list on replicasets, pods, pods/log and events in the namespace.',
      );
    }
    return new DeployError('api', `${action} failed with HTTP ${httpCode}${status?.reason ? ` ${status.reason}` : ''}: ${detail}`);
  }
  const code = errorCode(err);
  if (code && NETWORK_CODES.has(code)) {
    return new DeployError(
      'unreachable',
      `cannot reach the Kubernetes API server at ${server} (${code}) while trying to ${action}. Is the cluster running (minikube status) and is the kubeconfig server address right?`,
    );
  }
  if (code && TLS_CODES.test(code)) {
    return new DeployError(
      'unreachable',
      `TLS handshake with ${server} failed (${code}) while trying to ${action}: the kubeconfig certificate-authority does not match the server.`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new DeployError('api', `${action} failed: ${message}`);
}
