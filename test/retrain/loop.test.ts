/**
 * The model learns, end to end on a real `mlflow server` and the real API process (scripts/lib/retrain-loop.ts, the
 * same steps `npm run loop` runs): v1 trained on Cleveland is @champion and served from the registry.
 *
 * - A challenger trained on shuffled outcomes is registered but not promoted (exit 3, alias `challenger`), and the
 *   API keeps serving v1.
 * - Half of the Hungarian rows go through the API (drift reaches `drift`), their outcomes come back through
 *   POST /feedback into the prediction log, the trigger reads the log and retrains, the challenger is promoted, and the API swaps to it without a restart while a load runs, with no failed
 *   request; on the other Hungarian half, never sent nor trained on, v2's Brier score is lower than v1's.
 * - Right after, the trigger does nothing: the cool-down, read from MLflow's retrain runs.
 *
 * (A registry version with a corrupt artifact is refused, v1 keeps serving and the failure is counted in /metrics:
 * test/api/registry-serving.test.ts.)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY } from '../../src/contract/artifact-contract.js';
import { getAliases, getModelVersion } from '../../src/mlflow/registry.js';
import { getRun } from '../../src/mlflow/runs.js';
import { isHeldOut } from '../../src/retrain/new-rows.js';
import { DEFAULT_NEW_HOLDOUT } from '../../src/retrain/options.js';
import { createRandom, shuffled } from '../../src/train/models/random.js';
import { startLoop, type Loop } from '../../scripts/lib/retrain-loop.js';
import { clevelandFile, hungarianFile } from '../support/paths.js';
import { realComponent } from '../support/real-component.js';
import { mlflowAvailable } from '../tracking/mlflow-server.js';

const probe = mlflowAvailable();

describe.runIf(realComponent('mlflow', probe.available, probe.reason))('retraining on outcomes (real mlflow server, real API)', () => {
  let work: string;
  let loop: Loop;
  const log = (line: string) => console.info(`[loop] ${line}`);
  const served = () => loop.servedVersion();

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'hd-retrain-loop-'));
    loop = await startLoop({ workDir: work, clevelandFile, hungarianFile, log });
  });
  afterAll(async () => {
    await loop?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(
    'a challenger trained on shuffled outcomes is not promoted: exit 3, alias challenger, the API keeps serving v1',
    { timeout: 300_000 },
    async () => {
      expect(await served()).toBe(loop.v1.modelVersion);
      // Outcomes as a labelled file (--labelled); those of the rows it trains on are shuffled; the held-out rows keep their real outcomes (the evidence).
      const rows = loop.split.replay;
      const trainSide = rows.map((r, i) => (isHeldOut(r.features, DEFAULT_NEW_HOLDOUT) ? -1 : i)).filter((i) => i >= 0);
      const permuted = shuffled(trainSide, createRandom(7));
      const outcomeOf = new Map(trainSide.map((i, k) => [i, rows[permuted[k]!]!.outcome]));
      const file = await loop.feedBack(rows, (row, i) => outcomeOf.get(i) ?? row.outcome);
      const changed = trainSide.filter((i) => outcomeOf.get(i) !== rows[i]!.outcome).length;
      expect(changed).toBeGreaterThan(10);

      const out = path.join(work, 'shuffled');
      // With the default gate (--min-auc 0.85) the noise already fails training's quality gate and nothing is registered;
      // a lower gate lets it through, so the comparison on outcomes is what refuses it.
      const run = await loop.retrain(['--data', clevelandFile, '--labelled', file, '--out', out, '--min-auc', '0.7']);
      expect(run.code, run.stderr + run.stdout.slice(-3000)).toBe(3);
      const decision = JSON.parse(await readFile(path.join(out, 'decision.json'), 'utf8')) as {
        decision: string;
        decidedBy: string;
        challenger: { version: string; scores: { newRows: { brier: number } } };
        champion: { version: string; scores: { newRows: { brier: number } } };
      };
      console.info(
        `[shuffled] kept by ${decision.decidedBy}: Brier on held-out new rows champion ${decision.champion.scores.newRows.brier.toFixed(4)}, challenger ${decision.challenger.scores.newRows.brier.toFixed(4)}`,
      );
      expect(decision).toMatchObject({ decision: 'kept', champion: { version: loop.v1.version } });
      expect(decision.decidedBy).toBe('brier');
      expect(decision.challenger.scores.newRows.brier).toBeGreaterThan(decision.champion.scores.newRows.brier);

      const aliases = await getAliases(loop.client, REGISTRY.modelName);
      expect(aliases).toEqual({ [REGISTRY.aliases.champion]: loop.v1.version, [REGISTRY.aliases.challenger]: decision.challenger.version });
      const version = await getModelVersion(loop.client, REGISTRY.modelName, decision.challenger.version);
      const tags = Object.fromEntries((await getRun(loop.client, version.runId!)).data.tags!.map((t) => [t.key, t.value]));
      expect(tags).toMatchObject({ retrain: 'true', 'retrain.decision': 'kept', 'retrain.decided_by': decision.decidedBy });
      const report = await readFile(path.join(out, 'decision.html'), 'utf8');
      expect(report).toContain('Kept');
      expect(report).toContain(`decided by the clause <strong>${decision.decidedBy}</strong>`);

      // Several polls later the API still serves v1.
      await new Promise((r) => setTimeout(r, 3000));
      expect(await served()).toBe(loop.v1.modelVersion);
    },
  );

  it(
    'drift, outcomes, trigger: the challenger is promoted, served without restart under load (0 failed), better on fresh rows',
    { timeout: 300_000 },
    async () => {
      const pid = loop.api.child.pid;
      const replayed = await loop.replay();
      expect(replayed.drift.status).toBe('drift');
      const fed = await loop.sendFeedback(replayed.accepted);
      expect(fed).toEqual({ recorded: replayed.accepted.length });

      loop.startLoad(3);
      // The shuffled run above is a retraining too: without --cooldown 0 this one would wait for its cool-down.
      const triggered = await loop.trigger(['--cooldown', '0']);
      expect(triggered.code, triggered.stderr.slice(-3000)).toBe(0);
      expect(triggered.decision).toMatchObject({
        action: 'retrained',
        decision: 'promoted',
        decidedBy: 'all',
        championVersion: loop.v1.version,
      });
      const v2 = String(triggered.decision!.challengerVersion);
      const v2ModelVersion = (await getModelVersion(loop.client, REGISTRY.modelName, v2)).tags[REGISTRY.versionTags.modelVersion]!;
      expect(v2ModelVersion).not.toBe(loop.v1.modelVersion);
      await loop.waitForModel(v2ModelVersion);
      await new Promise((r) => setTimeout(r, 1000));
      const answers = await loop.stopLoad();

      const failed = answers.filter((a) => a.status !== 200);
      const byV1 = answers.filter((a) => a.modelVersion === loop.v1.modelVersion).length;
      const byV2 = answers.filter((a) => a.modelVersion === v2ModelVersion).length;
      console.info(
        `[swap] ${answers.length} requests during retraining and swap: ${byV1} answered by v1, ${byV2} by v2, ${failed.length} failed`,
      );
      expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
      expect(byV1).toBeGreaterThan(0);
      expect(byV2).toBeGreaterThan(0);
      expect(byV1 + byV2).toBe(answers.length);
      expect(loop.api.child.pid).toBe(pid);
      expect(loop.api.child.exitCode).toBeNull();
      expect(await getAliases(loop.client, REGISTRY.modelName)).toMatchObject({ [REGISTRY.aliases.champion]: v2 });

      // The decision report: both models side by side, the rule, the deciding clause, the curves.
      const report = await readFile(String(triggered.decision!.report), 'utf8');
      expect(report).toContain('Promoted');
      for (const clause of ['evidence', 'gate', 'brier', 'auc']) expect(report).toContain(`<th scope="row">${clause}`);
      expect(report.match(/<svg /g)).toHaveLength(3);
      expect(report).toContain(loop.v1.modelVersion);
      expect(report).toContain(v2ModelVersion);

      const [before, after] = await loop.compareOnFresh([loop.v1.version, v2]);
      console.info(
        `[fresh] ${before!.rows} Hungarian rows never sent nor trained on: Brier v1 ${before!.brier.toFixed(4)}, v2 ${after!.brier.toFixed(4)}`,
      );
      expect(before!.rows).toBeGreaterThan(100);
      expect(after!.brier).toBeLessThan(before!.brier);
    },
  );

  it('right after a retraining the trigger does nothing: the cool-down comes from MLflow', { timeout: 300_000 }, async () => {
    const triggered = await loop.trigger(['--cooldown', '3600']);
    expect(triggered.code).toBe(0);
    expect(triggered.decision).toMatchObject({ action: 'none', reason: 'cooldown', drift: 'drift' });
    expect(triggered.stdout.trim().split('\n')).toHaveLength(1);
  });
});
