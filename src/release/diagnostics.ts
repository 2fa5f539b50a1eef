/** What a person needs after a failed rollout: each failing pod's state, its events and its last log lines. */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';

export interface PodReport {
  name: string;
  summary: string;
  events: string[];
  logs: Array<{ container: string; previous: boolean; lines: string[] }>;
  notes: string[];
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

export function podSummary(pod: V1Pod): string {
  const parts = [`phase ${pod.status?.phase ?? 'Unknown'}`];
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    const terminated = status.lastState?.terminated;
    let text = `${status.name}: ready=${status.ready} restarts=${status.restartCount}`;
    if (waiting) text += ` waiting ${waiting.reason ?? ''}${waiting.message ? ` (${waiting.message})` : ''}`;
    if (terminated) text += ` last exit ${terminated.exitCode}${terminated.reason ? ` ${terminated.reason}` : ''}`;
    parts.push(text);
  }
  return parts.join('; ');
}

const errorText = (err: unknown) => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? `HTTP ${code}` : (err as Error).message;
};

export async function failingPodReports(core: CoreV1Api, namespace: string, labelSelector: string, logLines: number): Promise<PodReport[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector });
  const reports: PodReport[] = [];
  for (const pod of pods.items.filter((candidate) => !isReady(candidate))) {
    const name = pod.metadata?.name ?? '';
    const report: PodReport = { name, summary: podSummary(pod), events: [], logs: [], notes: [] };
    try {
      const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}` });
      report.events = events.items
        .slice()
        .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')))
        .map((event) =>
          `${event.type ?? ''} ${event.reason ?? ''}${event.count && event.count > 1 ? ` (x${event.count})` : ''}: ${event.message ?? ''}`.trim(),
        );
    } catch (err) {
      report.notes.push(`events unavailable: ${errorText(err)}`);
    }
    if (logLines > 0) {
      for (const status of pod.status?.containerStatuses ?? []) {
        // A restarted container's own crash is in the previous instance's log (kubectl logs --previous).
        const previous = status.restartCount > 0 && !status.state?.running;
        try {
          const text = await core.readNamespacedPodLog({ name, namespace, container: status.name, tailLines: logLines, previous });
          report.logs.push({
            container: status.name,
            previous,
            lines: String(text)
              .split('\n')
              .filter((line) => line.length > 0)
              .slice(-logLines),
          });
        } catch (err) {
          report.notes.push(`logs of ${status.name} unavailable: ${errorText(err)}`);
        }
      }
    }
    reports.push(report);
  }
  return reports;
}

export function formatPodReports(reports: PodReport[]): string {
  if (reports.length === 0) return 'No failing pods found for the new revision.';
  const out: string[] = [];
  for (const report of reports) {
    out.push(`pod ${report.name}: ${report.summary}`);
    out.push('  events:');
    out.push(...(report.events.length > 0 ? report.events.map((line) => `    ${line}`) : ['    (none)']));
    for (const log of report.logs) {
      out.push(`  last ${log.lines.length} log lines of ${log.container}${log.previous ? ' (previous instance)' : ''}:`);
      out.push(...(log.lines.length > 0 ? log.lines.map((line) => `    ${line}`) : ['    (empty)']));
    }
    for (const note of report.notes) out.push(`  note: ${note}`);
  }
  return out.join('\n');
}
