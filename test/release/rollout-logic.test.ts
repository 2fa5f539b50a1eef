/**
 * The pure parts of the deploy: kubectl's rollout-status verdicts, kubectl's rollback target choice and patch,
 * and option parsing. Expected values follow kubectl's rollout_status.go / rollback.go, case by case.
 */
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseImageRef } from '../../src/release/args.js';
import { DeployError } from '../../src/release/errors.js';
import { latestAndPrevious, rollbackPatch, sameTemplateIgnoringHash } from '../../src/release/history.js';
import { deploymentRolloutState, type DeploymentLike } from '../../src/release/rollout.js';

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
      deployment({ status: { updatedReplicas: 1, conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] } }),
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
      deployment({ status: { conditions: [{ type: 'Progressing', reason: 'NewReplicaSetAvailable' }] } }),
      'done',
      /successfully rolled out/,
    ],
  ])('%s', (_name, input, phase, message) => {
    const state = deploymentRolloutState(input);
    expect(state.phase).toBe(phase);
    expect(state.message).toMatch(message);
  });

  it('a deadline condition is only believed once the generation is observed', () => {
    const stale = deployment({ generation: 5, status: { conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] } });
    expect(deploymentRolloutState(stale).phase).toBe('waiting');
  });
});

const rs = (name: string, revision: string | undefined, image: string, hash: string): V1ReplicaSet => ({
  metadata: { name, annotations: { ...(revision ? { 'deployment.kubernetes.io/revision': revision } : {}), 'team/note': name } },
  spec: {
    selector: {},
    template: { metadata: { labels: { app: 'api', 'pod-template-hash': hash } }, spec: { containers: [{ name: 'api', image }] } },
  },
});

describe('rollback target and patch as kubectl rollout undo builds them', () => {
  const sets = [rs('a', '1', 'img:1', 'h1'), rs('c', '10', 'img:3', 'h3'), rs('b', '9', 'img:2', 'h2'), rs('x', undefined, 'img:0', 'h0')];

  it('picks the second-highest revision, comparing numbers not strings', () => {
    const { latest, previous } = latestAndPrevious(sets);
    expect(latest?.metadata?.name).toBe('c');
    expect(previous?.metadata?.name).toBe('b');
    expect(latestAndPrevious([sets[0]!]).previous).toBeUndefined();
  });

  it('replaces the template without pod-template-hash and keeps controller annotations of the Deployment', () => {
    const current: V1Deployment = {
      metadata: { name: 'api', annotations: { 'deployment.kubernetes.io/revision': '10', 'team/note': 'current' } },
      spec: { selector: {}, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'img:3' }] } } },
    };
    const ops = rollbackPatch(current, sets[2]!);
    expect(ops).toEqual([
      {
        op: 'replace',
        path: '/spec/template',
        value: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'img:2' }] } },
      },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '10', 'team/note': 'b' } },
    ]);
    expect(sets[2]!.spec!.template!.metadata!.labels!['pod-template-hash']).toBe('h2'); // input untouched
    expect(sameTemplateIgnoringHash(current.spec!.template, sets[1]!.spec!.template!)).toBe(true);
    expect(sameTemplateIgnoringHash(current.spec!.template, sets[2]!.spec!.template!)).toBe(false);
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
    [`registry.example.com/hd@sha256:${'b'.repeat(64)}`, { repository: 'registry.example.com/hd', digest: `sha256:${'b'.repeat(64)}` }],
  ])('image %s', (text, ref) => expect(parseImageRef(text)).toEqual(ref));

  it.each(['Heart-Disease:1', 'hd:', 'hd:tag with space', 'hd@sha256:short'])('rejects image %j', (text) => {
    expect(() => parseImageRef(text)).toThrow(/--image/);
  });
});
