/**
 * Continuous POST /predict load from several keep-alive clients (one node:http Agent with one socket each, as a
 * browser or a service client reuses its connection), counting every request, every failure with its cause, and
 * which model version answered when. Nothing is retried: a failed request is a failure.
 */
import http from 'node:http';
import { EXAMPLE_PATIENT } from '../../../src/features/feature-schema.js';

export interface LoadReport {
  requests: number;
  failures: number;
  /** Failure causes with their counts, e.g. "ECONNRESET: socket hang up" or "HTTP 503". */
  causes: Record<string, number>;
  /** Answers per model version, in the order the versions first answered. */
  answersByVersion: Record<string, number>;
  /** The first answer's version, and the versions of the last `tail` answers. */
  firstVersion?: string;
  lastVersions: string[];
  /** How often consecutive answers came from different versions (both serve while the rollout runs). */
  switches: number;
  seconds: number;
}

export interface Load {
  stop(): Promise<LoadReport>;
  /** Requests answered so far. */
  count(): number;
}

const BODY = JSON.stringify(EXAMPLE_PATIENT);

function post(agent: http.Agent, url: URL): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
        timeout: 10_000,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', reject);
    request.end(BODY);
  });
}

/** Starts `clients` loops against `baseUrl`/predict; each sends its next request as soon as the last one is answered. */
export function startLoad(baseUrl: string, clients = 4, tail = 50): Load {
  const url = new URL('/predict', baseUrl);
  const started = Date.now();
  let requests = 0;
  let failures = 0;
  let stopping = false;
  const causes: Record<string, number> = {};
  const answersByVersion: Record<string, number> = {};
  const recent: string[] = [];
  let firstVersion: string | undefined;
  let switches = 0;
  const fail = (cause: string) => {
    failures++;
    causes[cause] = (causes[cause] ?? 0) + 1;
  };
  const loops = Array.from({ length: clients }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (!stopping) {
      requests++;
      try {
        const { status, body } = await post(agent, url);
        if (status !== 200) {
          fail(`HTTP ${status}`);
          continue;
        }
        const version = (JSON.parse(body) as { modelVersion: string }).modelVersion;
        answersByVersion[version] = (answersByVersion[version] ?? 0) + 1;
        firstVersion ??= version;
        if (recent.length > 0 && recent.at(-1) !== version) switches++;
        recent.push(version);
        if (recent.length > tail) recent.shift();
      } catch (err) {
        fail(`${(err as NodeJS.ErrnoException).code ?? 'error'}: ${(err as Error).message}`);
      }
    }
    agent.destroy();
  });
  return {
    count: () => requests - failures,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      const seconds = (Date.now() - started) / 1000;
      return {
        requests,
        failures,
        causes,
        answersByVersion,
        ...(firstVersion ? { firstVersion } : {}),
        lastVersions: [...recent],
        switches,
        seconds,
      };
    },
  };
}

/** One CI log line: "12345 requests in 61.2 s, 0 failed; answers: v1 6000, v2 6345 (38 switches while both served)". */
export function loadLine(report: LoadReport): string {
  const answers = Object.entries(report.answersByVersion)
    .map(([version, count]) => `${version} ${count}`)
    .join(', ');
  const causes = Object.entries(report.causes)
    .map(([cause, count]) => `${count}x ${cause}`)
    .join('; ');
  return `${report.requests} requests in ${report.seconds.toFixed(1)} s, ${report.failures} failed${causes ? ` (${causes})` : ''}; answers: ${answers} (${report.switches} switches)`;
}
