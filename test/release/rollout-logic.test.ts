/**
 * The pure parts of the deploy: kubectl's rollout-status verdicts (expected values follow kubectl's
 * rollout_status.go case by case), option parsing, the helm arguments and how helm's and the API's errors map to
 * exit codes, the release record's reading, and the one-line reason of a failing pod.
 * Everything that talks to a cluster is tested on a real one: test/e2e/deploy.test.ts.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseImageRef } from '../../src/release/args.js';
import { logMessage, podState, reasonLine, type PodReport } from '../../src/release/diagnostics.js';
import { DeployError, describeHelmError, describeKubeError, EXIT_CODES } from '../../src/release/errors.js';
import { deployedRevision, rollbackArgs, sameManifest, upgradeArgs } from '../../src/release/helm.js';
import { deploymentRolloutState } from '../../src/release/watch.js';
import { repoRoot } from '../support/paths.js';
import { runTs } from '../support/run-cli.js';

type DeploymentLike = Omit<V1Deployment, 'spec' | 'status'> & { spec?: { replicas?: number }; status?: V1Deployment['status'] };

const deployment = (over: { generation?: number; replicas?: number; status?: DeploymentLike['status'] }): DeploymentLike => ({
  metadata: { name: 'api', generation: over.generation ?? 2 },
  spec: { replicas: over.replicas ?? 2 },
  status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, ...over.status },
});

describe('rollout status as kubectl decides it', () => {
  it.each<[string, DeploymentLike, string, RegExp]>([
    ['generation not observed yet', deployment({ generation: 3 }), 'waiting', /spec update to be observed/],
    [
      'progress deadline exceeded',
      deployment({
        status: { updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] },
      }),
      'failed',
      /exceeded its progress deadline/,
    ],
    [
      'fewer updated than desired',
      deployment({ status: { updatedReplicas: 1, replicas: 3 } }),
      'waiting',
      /1 out of 2 new replicas have been updated/,
    ],
    [
      'old replicas still there',
      deployment({ status: { replicas: 3, updatedReplicas: 2 } }),
      'waiting',
      /1 old replicas are pending termination/,
    ],
    ['updated but not available', deployment({ status: { availableReplicas: 1 } }), 'waiting', /1 of 2 updated replicas are available/],
    ['complete', deployment({}), 'done', /successfully rolled out/],
    [
      'complete with a Progressing=True condition',
      deployment({ status: { conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] } }),
      'done',
      /successfully rolled out/,
    ],
  ])('%s', (_name, input, phase, message) => {
    const state = deploymentRolloutState(input as V1Deployment);
    expect(state.phase).toBe(phase);
    expect(state.message).toMatch(message);
  });

  it('a deadline condition is only believed once the generation is observed', () => {
    const stale = deployment({
      generation: 5,
      status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] },
    });
    expect(deploymentRolloutState(stale as V1Deployment).phase).toBe('waiting');
  });
});

describe('deploy options', () => {
  it.each([
    ['300s', 300_000],
    ['5m', 300_000],
    ['1m30s', 90_000],
    ['90', 90_000],
    ['250ms', 250],
  ])('duration %s', (text, ms) => expect(parseDuration(text, 'timeout')).toBe(ms));

  it.each(['', 'soon', '5 m', '0s', '-1s'])('rejects duration %j naming the option', (text) => {
    expect(() => parseDuration(text, 'timeout')).toThrow(DeployError);
    expect(() => parseDuration(text, 'timeout')).toThrow(/--timeout/);
  });

  it.each([
    ['heart-disease-api:1.2.0', { repository: 'heart-disease-api', tag: '1.2.0' }],
    ['heart-disease-api', { repository: 'heart-disease-api' }],
    ['localhost:5000/team/heart-disease-api:dev', { repository: 'localhost:5000/team/heart-disease-api', tag: 'dev' }],
    // An all-digit tag (an image id's prefix) is a tag, not a registry port.
    ['heart-disease-api-e2e:229739168038', { repository: 'heart-disease-api-e2e', tag: '229739168038' }],
    ['localhost:5000/hd', { repository: 'localhost:5000/hd' }],
    [`registry.example.com/hd@sha256:${'b'.repeat(64)}`, { repository: 'registry.example.com/hd', digest: `sha256:${'b'.repeat(64)}` }],
  ])('image %s', (text, ref) => expect(parseImageRef(text)).toEqual(ref));

  it.each(['Heart-Disease:1', 'hd:', 'hd:tag with space', 'hd@sha256:short'])('rejects image %j', (text) => {
    expect(() => parseImageRef(text)).toThrow(/--image/);
  });

  it.each([
    [[], /--namespace is required/],
    [['-n', 'Bad_NS'], /--namespace: must be at most 63 characters long and matching .*, got 'Bad_NS'/],
    [['-n', 'ok', '--release', 'x'.repeat(54)], /--release: must be at most 53 characters long/],
    [['-n', 'ok', '--timeout', 'soon'], /--timeout "soon" is not a duration/],
    [['-n', 'ok', '--image', 'Heart Disease'], /--image "Heart Disease" is not an image reference/],
    [['-n', 'ok', '--chart', '/'], /--chart \/: no Chart.yaml in that directory/],
  ])('the CLI refuses %j with exit 2, naming the option and the rule', async (args, message) => {
    const file = path.join(repoRoot, 'package.json'); // exists: only the option under test is wrong
    const run = await runTs('src/release/cli.ts', ['--kubeconfig', file, '--values', file, ...args]);
    expect(run.code).toBe(EXIT_CODES.usage);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('helm arguments', () => {
  const target = { helm: 'helm', kubeconfig: '/k', namespace: 'ns', release: 'rel' };
  const input = { chart: '/chart', valuesFiles: ['/a.yaml', '/b.yaml'], image: { repository: 'hd', tag: '1.10' }, timeoutMs: 90_500 };

  it('upgrade --install with the values in order, the image as strings, and --wait with the timeout in whole seconds', () => {
    expect(upgradeArgs(target, input, 'wait')).toEqual([
      'upgrade', '--install', 'rel', '/chart', '--kubeconfig', '/k', '--namespace', 'ns', '--create-namespace', '--reset-values',
      '--values', '/a.yaml', '--values', '/b.yaml',
      '--set-string', 'image.repository=hd', '--set-string', 'image.tag=1.10', '--set-string', 'image.digest=',
      '--wait', '--timeout', '91s',
    ]); // prettier-ignore
  });

  it('the dry run is server-side and prints the release as JSON; without --image the values files choose it', () => {
    const args = upgradeArgs(target, { ...input, image: undefined } as never, 'dry-run');
    expect(args.slice(-3)).toEqual(['--dry-run=server', '--output', 'json']);
    expect(args.join(' ')).not.toContain('image.');
    expect(args).not.toContain('--wait');
  });

  it('rollback to a revision, waiting', () => {
    expect(rollbackArgs(target, 4, 60_000)).toEqual([
      'rollback',
      'rel',
      '4',
      '--kubeconfig',
      '/k',
      '--namespace',
      'ns',
      '--wait',
      '--timeout',
      '60s',
    ]);
  });
});

describe('the release record', () => {
  it('the revision to roll back to is the last one deployed, whatever came after it', () => {
    const entry = (revision: number, status: string) => ({ revision, status, description: '' });
    expect(deployedRevision([])).toBeUndefined();
    expect(deployedRevision([entry(1, 'failed')])).toBeUndefined();
    expect(deployedRevision([entry(1, 'superseded'), entry(2, 'deployed'), entry(3, 'failed')])).toBe(2);
  });

  it('manifests compare by content, not by the trailing newline helm get manifest adds', () => {
    expect(sameManifest('---\nkind: A\n', '---\nkind: A\n\n')).toBe(true);
    expect(sameManifest('---\nkind: A\n', '---\nkind: B\n')).toBe(false);
  });
});

describe('errors and exit codes', () => {
  it.each([
    [
      'Error: query: failed to query with labels: secrets is forbidden: User "system:serviceaccount:a:b" cannot list resource "secrets"',
      'forbidden',
      3,
    ],
    [
      'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:1/version": dial tcp 127.0.0.1:1: connect: connection refused',
      'unreachable',
      3,
    ],
    ['Error: Unauthorized', 'unauthorized', 3],
    ['Error: UPGRADE FAILED: context deadline exceeded', 'rollout', 1],
    ['Release x has been cancelled.\nError: UPGRADE FAILED: context canceled', 'rollout', 1],
    ['Error: parse error at (heart-disease-api/templates/x.yaml:3): unexpected EOF', 'chart', 2],
    [
      'Error: UPGRADE FAILED: unable to build kubernetes objects from release manifest: resource mapping not found for name: "x"',
      'chart',
      2,
    ],
    ['Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress', 'api', 4],
  ])('helm: %s -> %s (exit %i)', (stderr, kind, code) => {
    const error = describeHelmError(`walk.go:75: found symbolic link\n${stderr}\n`, 'helm upgrade');
    expect(error.kind).toBe(kind);
    expect(EXIT_CODES[error.kind]).toBe(code);
    expect(error.message).toMatch(/^helm upgrade failed: /);
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('walk.go');
  });

  it('client-node errors: 401, 403, other HTTP, refused, TLS', () => {
    const http = (code: number, message: string) =>
      Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', message }) });
    expect(describeKubeError(http(401, 'Unauthorized'), 'https://s', 'list pods').kind).toBe('unauthorized');
    const forbidden = describeKubeError(http(403, 'pods is forbidden: User "u" cannot list'), 'https://s', 'list pods');
    expect([forbidden.kind, forbidden.message]).toEqual([
      'forbidden',
      expect.stringContaining('not allowed to list pods (403): pods is forbidden'),
    ]);
    expect(describeKubeError(http(500, 'boom'), 'https://s', 'list pods').kind).toBe('api');
    const refused = Object.assign(new Error('request to https://s failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(describeKubeError(refused, 'https://s', 'x').kind).toBe('unreachable');
    const tls = Object.assign(new Error('unable to verify'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(describeKubeError(tls, 'https://s', 'x').message).toContain('TLS handshake with https://s failed');
    expect(describeKubeError(new DeployError('usage', 'kept'), 's', 'x').message).toBe('kept');
  });
});

describe("a failing pod's state and the reason in one line", () => {
  const pod = (status: V1Pod['status'], deleting = false): V1Pod => ({
    metadata: { name: 'p', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
    status,
  });
  const container = (state: object, restartCount = 0, lastState: object = {}) => ({
    name: 'api',
    image: 'i',
    imageID: '',
    ready: false,
    restartCount,
    state,
    lastState,
  });

  it.each<[string, V1Pod, string]>([
    ['ready', pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }), 'Ready'],
    ['terminating', pod({ phase: 'Running' }, true), 'Terminating'],
    ['scheduled, nothing started', pod({ phase: 'Pending' }), 'Pending'],
    [
      'missing image',
      pod({ phase: 'Pending', containerStatuses: [container({ waiting: { reason: 'ErrImageNeverPull', message: 'not present' } })] }),
      'ErrImageNeverPull (not present)',
    ],
    [
      'crash loop (its message only repeats the pod name)',
      pod({
        phase: 'Running',
        containerStatuses: [
          container({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=api pod=p' } }, 2, {
            terminated: { exitCode: 1, reason: 'Error' },
          }),
        ],
      }),
      'CrashLoopBackOff, 2 restarts, last exit 1 Error',
    ],
    ['running, not ready yet', pod({ phase: 'Running', containerStatuses: [container({ running: {} })] }), 'Running, not ready'],
    [
      'exited, not restarted yet',
      pod({ phase: 'Running', containerStatuses: [container({ terminated: { exitCode: 1 } })] }),
      'Terminated, exit 1',
    ],
  ])('%s', (_name, input, state) => expect(podState(input)).toBe(state));

  const report = (over: Partial<PodReport>): PodReport => ({
    name: 'p',
    state: 'CrashLoopBackOff',
    events: [],
    logs: [],
    notes: [],
    ...over,
  });

  it('prefers the last log message (pino JSON read), then the last warning, and counts the other pods', () => {
    const logs = [
      { container: 'api', previous: true, lines: ['{"level":30,"msg":"starting"}', '{"level":60,"msg":"cannot start: bad contract"}'] },
    ];
    expect(reasonLine([report({ logs }), report({ name: 'q' })])).toBe(
      'pod p: CrashLoopBackOff; last log: cannot start: bad contract (and 1 more pod)',
    );
    expect(reasonLine([report({ events: ['Normal Pulled: ok', 'Warning BackOff: back-off'] })])).toBe(
      'pod p: CrashLoopBackOff; last event: Warning BackOff: back-off',
    );
    expect(reasonLine([report({ state: 'ErrImageNeverPull (not present)', events: ['Warning Failed: Error: ErrImageNeverPull'] })])).toBe(
      'pod p: ErrImageNeverPull (not present)',
    );
    expect(reasonLine([])).toBe('no failing pod of the new revision was found');
    expect(logMessage('plain text line')).toBe('plain text line');
  });
});
