/** What a person needs after a failed rollout: each failing pod's state, its events, its last log lines, and the reason in one line. */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';

export interface PodReport {
  name: string;
  state: string;
  events: string[];
  logs: Array<{ container: string; previous: boolean; lines: string[] }>;
  notes: string[];
}

export const isReady = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** A pod's state in a few words, as `kubectl get pods` would show it, plus why a container is not running. */
export function podState(pod: V1Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  if (isReady(pod)) return 'Ready';
  const parts: string[] = [];
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    const last = status.lastState?.terminated;
    // CrashLoopBackOff's message only repeats the pod's name; the reason and the last exit say it all.
    const message = waiting?.message && waiting.reason !== 'CrashLoopBackOff' ? ` (${waiting.message})` : '';
    const exited = status.state?.terminated ? `Terminated, exit ${status.state.terminated.exitCode}` : '';
    let text = waiting ? `${waiting.reason ?? 'Waiting'}${message}` : status.state?.running ? 'Running, not ready' : exited;
    if (status.restartCount > 0) text += `${text ? ', ' : ''}${status.restartCount} restarts`;
    if (last) text += `, last exit ${last.exitCode}${last.reason ? ` ${last.reason}` : ''}`;
    if (text) parts.push(text);
  }
  return parts.join('; ') || (pod.status?.phase ?? 'Pending');
}

const errorText = (err: unknown) => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? `HTTP ${code}` : (err as Error).message;
};

/** The `msg` of a JSON log line (the API logs with pino), else the line itself. */
export function logMessage(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown };
    return typeof parsed.msg === 'string' ? parsed.msg : line;
  } catch {
    return line;
  }
}

export async function podReports(core: CoreV1Api, namespace: string, pods: V1Pod[], logLines: number): Promise<PodReport[]> {
  return Promise.all(
    pods.map(async (pod) => {
      const name = pod.metadata?.name ?? '';
      const report: PodReport = { name, state: podState(pod), events: [], logs: [], notes: [] };
      try {
        const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}` });
        report.events = events.items
          .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')))
          .map((e) => `${e.type ?? ''} ${e.reason ?? ''}${e.count && e.count > 1 ? ` (x${e.count})` : ''}: ${e.message ?? ''}`.trim());
      } catch (err) {
        report.notes.push(`events unavailable: ${errorText(err)}`);
      }
      for (const status of logLines > 0 ? (pod.status?.containerStatuses ?? []) : []) {
        if (status.state?.waiting && status.restartCount === 0) continue; // never started: no log to read
        const read = async (previous: boolean) =>
          String(await core.readNamespacedPodLog({ name, namespace, container: status.name, tailLines: logLines, previous }))
            .split('\n')
            .filter(Boolean)
            .slice(-logLines);
        // A restarted container's own crash is in the previous instance's log (kubectl logs --previous).
        let previous = status.restartCount > 0 && Boolean(status.state?.waiting);
        try {
          let lines = await read(previous);
          // Restarted and running again, silent so far (seen on a busy node): the crash is still the previous one's.
          if (!previous && lines.length === 0 && status.restartCount > 0) [previous, lines] = [true, await read(true)];
          report.logs.push({ container: status.name, previous, lines });
        } catch (err) {
          report.notes.push(`logs of ${status.name} unavailable: ${errorText(err)}`);
        }
      }
      return report;
    }),
  );
}

/** The one line that says why: the pod's state, and the last warning event or log message that explains it. */
export function reasonLine(reports: PodReport[]): string {
  const report = reports[0];
  if (!report) return 'no failing pod of the new revision was found';
  const lastLog = report.logs.flatMap((log) => log.lines).pop();
  const lastWarning = report.events.filter((event) => event.startsWith('Warning')).pop();
  // A waiting reason with its message (ErrImageNeverPull (Container image ... not present)) needs no event to explain it.
  const why = lastLog ? `last log: ${logMessage(lastLog)}` : lastWarning && !report.state.includes('(') ? `last event: ${lastWarning}` : '';
  const others = reports.length > 1 ? ` (and ${reports.length - 1} more pod${reports.length > 2 ? 's' : ''})` : '';
  return `pod ${report.name}: ${report.state}${why ? `; ${why}` : ''}${others}`;
}

export function formatPodReports(reports: PodReport[]): string {
  const out: string[] = [];
  for (const report of reports) {
    out.push(
      `pod ${report.name}: ${report.state}`,
      '  events:',
      ...(report.events.length ? report.events : ['(none)']).map((l) => `    ${l}`),
    );
    for (const log of report.logs) {
      out.push(`  last ${log.lines.length} log lines of ${log.container}${log.previous ? ' (previous instance)' : ''}:`);
      out.push(...(log.lines.length ? log.lines : ['(empty)']).map((line) => `    ${line}`));
    }
    out.push(...report.notes.map((note) => `  note: ${note}`));
  }
  return out.join('\n') || 'No failing pods found for the new revision.';
}
