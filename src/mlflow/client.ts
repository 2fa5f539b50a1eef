/**
 * Minimal MLflow REST client over fetch (no SDK): one request, one clear one-line error. Shared by training (runs,
 * registration) and the API (serving from the registry); runs.ts, artifacts.ts and registry.ts build on it.
 *
 *   new MlflowClient(config: MlflowClientConfig)
 *   client.call<T>(what: string, method: 'GET'|'POST'|'PATCH'|'DELETE', apiPath: string, body?: object | URLSearchParams): Promise<T>
 *   client.putArtifact(what: string, apiPath: string, bytes: Uint8Array): Promise<void>
 *   client.getBytes(what: string, apiPath: string): Promise<Uint8Array>
 *   mlflowConfigFromEnv(env?): (MlflowClientConfig & { experimentName? }) | null   // null when MLFLOW_TRACKING_URI is unset
 *   class MlflowError extends Error { status?: number; errorCode?: string }
 *   class MlflowUnreachableError extends MlflowError                   // no answer: refused, unknown host, timeout
 *
 * `what` names the step ("create run", "upload model.onnx") so a failure says what was being done.
 * Auth follows the MLflow clients' env vars: MLFLOW_TRACKING_TOKEN (Bearer) or
 * MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD (Basic).
 */

export interface MlflowClientConfig {
  /** http(s) URL of the tracking server, e.g. http://127.0.0.1:5055 */
  trackingUri: string;
  token?: string;
  username?: string;
  password?: string;
  /** Per-request time limit (default 30 s). */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export class MlflowError extends Error {
  readonly status: number | undefined;
  readonly errorCode: string | undefined;
  constructor(message: string, status?: number, errorCode?: string) {
    super(message);
    this.name = 'MlflowError';
    this.status = status;
    this.errorCode = errorCode;
  }
}

/** The tracking server did not answer (refused, unknown host, timed out): nothing was decided on its side. */
export class MlflowUnreachableError extends MlflowError {
  constructor(message: string) {
    super(message);
    this.name = 'MlflowUnreachableError';
  }
}

/** Reads the MLflow clients' standard variables, including MLFLOW_EXPERIMENT_NAME. */
export function mlflowConfigFromEnv(env: NodeJS.ProcessEnv = process.env): (MlflowClientConfig & { experimentName?: string }) | null {
  const trackingUri = env.MLFLOW_TRACKING_URI?.trim();
  if (!trackingUri) return null;
  return {
    trackingUri,
    experimentName: env.MLFLOW_EXPERIMENT_NAME?.trim() || undefined,
    token: env.MLFLOW_TRACKING_TOKEN || undefined,
    username: env.MLFLOW_TRACKING_USERNAME || undefined,
    password: env.MLFLOW_TRACKING_PASSWORD || undefined,
  };
}

/** The base URL without a trailing slash; anything but http(s) is refused with the reason. */
export function normaliseTrackingUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new MlflowError(`MLFLOW_TRACKING_URI: "${uri}" is not a URL; expected the http(s) address of an MLflow server`);
  }
  if (url.username || url.password) {
    // fetch refuses such URLs, and the address appears in messages and in the API's /model: credentials go elsewhere.
    throw new MlflowError(
      `MLFLOW_TRACKING_URI: put credentials in MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN), not in the URL`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MlflowError(
      `MLFLOW_TRACKING_URI: "${uri}" uses ${url.protocol} but only http(s) tracking servers are supported (start one with scripts/ci/start-mlflow.sh)`,
    );
  }
  return url.toString().replace(/\/+$/, '');
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Node's fetch hides the socket error in `cause`; surface its code (ECONNREFUSED, ENOTFOUND, …). */
function networkReason(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return oneLine(cause.message);
  return error instanceof Error ? oneLine(error.message) : String(error);
}

export class MlflowClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(config: MlflowClientConfig) {
    this.baseUrl = normaliseTrackingUri(config.trackingUri);
    this.timeoutMs = config.timeoutMs ?? 30_000;
    this.fetchImpl = config.fetchImpl ?? fetch;
    this.headers = {};
    if (config.token) this.headers.authorization = `Bearer ${config.token}`;
    else if (config.username !== undefined && config.password !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
    }
  }

  private async send(
    what: string,
    method: string,
    apiPath: string,
    init: { body?: BodyInit; headers?: Record<string, string> },
  ): Promise<Response> {
    const url = `${this.baseUrl}${apiPath}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        body: init.body,
        headers: { ...this.headers, ...init.headers },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason = networkReason(error);
      const detail = reason === 'timed out' ? `did not answer within ${this.timeoutMs} ms` : `is unreachable (${reason})`;
      throw new MlflowUnreachableError(
        `MLflow ${what}: tracking server ${this.baseUrl} ${detail}; is it running and is MLFLOW_TRACKING_URI right?`,
      );
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let errorCode: string | undefined;
      let message = oneLine(text) || response.statusText;
      try {
        // MLflow handlers answer { error_code, message }; its FastAPI artifact routes answer { detail }.
        const parsed = JSON.parse(text) as { error_code?: string; message?: string; detail?: unknown };
        errorCode = parsed.error_code;
        if (parsed.message) message = oneLine(parsed.message);
        else if (parsed.detail !== undefined)
          message = oneLine(typeof parsed.detail === 'string' ? parsed.detail : JSON.stringify(parsed.detail));
      } catch {
        // Not JSON (proxy error page, plain text): keep the text itself.
      }
      throw new MlflowError(
        `MLflow ${what} failed: HTTP ${response.status}${errorCode ? ` ${errorCode}` : ''}: ${message} (${method} ${apiPath.split('?')[0]})`,
        response.status,
        errorCode,
      );
    }
    return response;
  }

  async call<T>(what: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', apiPath: string, body?: object | URLSearchParams): Promise<T> {
    let target = apiPath;
    let init: { body?: BodyInit; headers?: Record<string, string> } = {};
    if (body instanceof URLSearchParams) target = `${apiPath}?${body.toString()}`;
    else if (body !== undefined) init = { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
    const response = await this.send(what, method, target, init);
    const text = await response.text();
    if (text.trim() === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MlflowError(`MLflow ${what}: server answered HTTP ${response.status} with non-JSON body: ${oneLine(text, 120)}`);
    }
  }

  async putArtifact(what: string, apiPath: string, bytes: Uint8Array): Promise<void> {
    const response = await this.send(what, 'PUT', apiPath, {
      // Copy into a plain ArrayBuffer-backed view: fetch's BodyInit type refuses SharedArrayBuffer-backed ones.
      body: new Uint8Array(bytes),
      headers: { 'content-type': 'application/octet-stream' },
    });
    await response.arrayBuffer();
  }

  async getBytes(what: string, apiPath: string): Promise<Uint8Array> {
    const response = await this.send(what, 'GET', apiPath, {});
    return new Uint8Array(await response.arrayBuffer());
  }
}
