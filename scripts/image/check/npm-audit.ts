import { repoRoot } from '../../lib/model-dir.js';
import { runProcess } from '../../lib/process.js';

export type AuditStatus = 'PASS' | 'FAIL' | 'UNAVAILABLE';

export interface AuditOutcome {
  status: AuditStatus;
  detail: string;
  counts?: Record<string, number>;
}

/**
 * Read `npm audit --json` output. Findings come as metadata.vulnerabilities counts; an audit endpoint that cannot
 * be reached (offline, or a registry mirror that only allows GET) comes as an error object instead, which is
 * UNAVAILABLE, not a pass.
 */
export function interpretAuditJson(text: string): AuditOutcome {
  let json: { metadata?: { vulnerabilities?: Record<string, number> }; message?: string; error?: { summary?: string; code?: string } };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return { status: 'UNAVAILABLE', detail: `npm audit printed no JSON: ${text.trim().slice(0, 200)}` };
  }
  const counts = json.metadata?.vulnerabilities;
  if (counts) {
    const blocking = (counts.high ?? 0) + (counts.critical ?? 0);
    const summary = Object.entries(counts)
      .filter(([k]) => k !== 'total')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return { status: blocking > 0 ? 'FAIL' : 'PASS', detail: `${blocking} high/critical (${summary})`, counts };
  }
  const reason = json.message ?? json.error?.summary ?? json.error?.code ?? 'unknown error';
  return { status: 'UNAVAILABLE', detail: `audit endpoint unreachable: ${reason}` };
}

/** `npm audit --omit=dev` against the project lock file (the production dependency set baked into the image). */
export async function auditProductionDependencies(): Promise<AuditOutcome> {
  const result = await runProcess('npm', ['audit', '--omit=dev', '--json'], { cwd: repoRoot, timeoutMs: 120_000 });
  return interpretAuditJson(result.stdout);
}
