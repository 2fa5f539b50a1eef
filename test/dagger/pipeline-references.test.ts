/**
 * The pipeline's references resolve: every npm script the Dagger module runs exists in package.json, every project
 * script it runs exists, and the Jenkinsfile and the GitHub workflow call only functions (and flags) the module's
 * SDK scan registers. Read at test time, so a renamed script or function fails here rather than in CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  daggerSdkInstalled,
  kebab,
  mainObject,
  moduleSources,
  scanDaggerModule,
  sdkDir,
  type ScannedArgument,
  type ScannedObject,
} from './dagger-module.js';
import { repoRoot } from '../support/paths.js';
import { TRAINER_SCRIPTS, trainerScriptsDefined } from '../support/trainer-scripts.js';

/** npm's own commands the module may run; anything else after `npm` must be a package.json script. */
const NPM_BUILTINS = new Set(['ci', 'install', 'exec', 'prune']);
/** `npm test` / `npm start` are shorthands for scripts of those names. */
const NPM_SCRIPT_SHORTHANDS = new Set(['test', 'start']);

const packageScripts = () =>
  (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};

/**
 * `npm run X` / `npm X` in the module's code (comments, i.e. the doc strings, left out), both in exec argument arrays
 * ('npm', 'run', 'x') and in shell strings.
 */
export function npmInvocations(source: string): Array<{ verb: string; script?: string }> {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const flattened = code.replace(/'\s*,\s*'/g, ' ').replace(/"\s*,\s*"/g, ' ');
  const found: Array<{ verb: string; script?: string }> = [];
  for (const m of flattened.matchAll(/\bnpm\s+(run(?:-script)?\s+)?([a-z][\w:.-]*)/g)) {
    found.push(m[1] ? { verb: 'run', script: m[2] } : { verb: m[2]! });
  }
  return found;
}

/** Shell-like split that keeps quoted strings and GitHub `${{ ... }}` expressions whole. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  const pattern = /\$\{\{[^}]*\}\}\S*|"(?:[^"\\]|\\.)*"\S*|'[^']*'\S*|\S+/g;
  for (const m of command.matchAll(pattern)) words.push(m[0].replace(/^["']|["']$/g, ''));
  return words;
}

export interface DaggerCall {
  command: string;
  function: string;
  constructorFlags: string[];
  functionFlags: string[];
}

/** The module function a `dagger [global flags] call [constructor flags] fn [fn flags] [chained core calls]` runs. */
export function parseDaggerCall(command: string, main: ScannedObject): DaggerCall {
  const words = shellWords(command);
  const start = words.findIndex((w, i) => w === 'call' && words[i - 1] !== undefined && words.slice(0, i).includes('dagger'));
  if (start < 0) throw new Error(`not a dagger call: ${command}`);
  const constructorArgs = main.constructor?.arguments ?? {};
  const byFlag = (args: Record<string, ScannedArgument>) => new Map(Object.values(args).map((a) => [kebab(a.name), a]));

  /** Consume `--flag value` / `--flag=value` / boolean `--flag` words from i; returns the flags and the next index. */
  const flagsFrom = (i: number, args: Map<string, ScannedArgument>): [string[], number] => {
    const flags: string[] = [];
    while (i < words.length && words[i]!.startsWith('--')) {
      const [name, inline] = words[i]!.slice(2).split('=', 2) as [string, string | undefined];
      flags.push(name);
      const isBoolean = args.get(name)?.type?.kind === 'BOOLEAN_KIND';
      i += inline !== undefined || isBoolean ? 1 : 2;
    }
    return [flags, i];
  };

  const [constructorFlags, fnIndex] = flagsFrom(start + 1, byFlag(constructorArgs));
  const fnName = words[fnIndex];
  if (!fnName) throw new Error(`no function after dagger call: ${command}`);
  const fn = Object.values(main.methods).find((f) => kebab(f.name) === fnName);
  const [functionFlags] = flagsFrom(fnIndex + 1, byFlag(fn?.arguments ?? {}));
  return { command, function: fnName, constructorFlags, functionFlags };
}

function jenkinsShellSteps(jenkinsfile: string): string[] {
  const code = jenkinsfile.replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(/\bsh\s*\(?\s*(?:script:\s*)?('''[\s\S]*?'''|"""[\s\S]*?"""|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/g)].map((m) =>
    m[1]!.replace(/^('''|"""|'|")|('''|"""|'|")$/g, ''),
  );
}

interface WorkflowStep {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}

function workflowDaggerCalls(workflow: string): { calls: string[]; actionVersions: string[]; actionRefs: string[] } {
  const doc = parseYaml(workflow) as { jobs: Record<string, { steps: WorkflowStep[] }> };
  const calls: string[] = [];
  const actionVersions: string[] = [];
  const actionRefs: string[] = [];
  for (const job of Object.values(doc.jobs)) {
    for (const step of job.steps) {
      if (step.uses?.startsWith('dagger/dagger-for-github')) {
        actionRefs.push(step.uses);
        actionVersions.push(String(step.with?.version ?? ''));
        const verb = step.with?.verb ?? 'call';
        const args = step.with?.call ?? step.with?.args ?? '';
        if (verb === 'call') calls.push(`dagger call ${args}`);
      }
      if (step.run?.includes('dagger ')) calls.push(...step.run.split('\n').filter((l) => /\bdagger\b.*\bcall\b/.test(l)));
    }
  }
  return { calls, actionVersions, actionRefs };
}

let main: ScannedObject;
const jenkinsfile = readFileSync(path.join(repoRoot, 'Jenkinsfile'), 'utf8');
const workflow = readFileSync(path.join(repoRoot, '.github/workflows/ci.yml'), 'utf8');

const withSdk = daggerSdkInstalled();

beforeAll(async () => {
  if (withSdk) main = mainObject(await scanDaggerModule());
}, 60_000);

describe.skipIf(!withSdk)('npm scripts and project scripts the Dagger module runs', () => {
  const sources = moduleSources();
  const invocations = sources.flatMap((s) => npmInvocations(s.text));

  it('finds the pipeline steps (the extraction is not vacuous)', () => {
    const scripts = new Set(invocations.map((i) => i.script ?? i.verb));
    for (const expected of ['lint', 'typecheck', 'test', 'train', 'build', 'image:smoke', 'deploy', 'ci']) {
      expect(scripts, `module runs npm ${expected}`).toContain(expected);
    }
  });

  it('every `npm run X` / `npm X` names a script in package.json or an npm built-in', () => {
    const scripts = packageScripts();
    const missing = invocations
      .filter((i) =>
        i.verb === 'run' || NPM_SCRIPT_SHORTHANDS.has(i.verb) ? !((i.script ?? i.verb) in scripts) : !NPM_BUILTINS.has(i.verb),
      )
      .map((i) => (i.verb === 'run' ? `npm run ${i.script}` : `npm ${i.verb}`));
    expect([...new Set(missing)], 'npm scripts the module runs but package.json lacks').toEqual([]);
  });

  it('every project file path the module reads (scripts/, data/, deploy/, Dockerfile) exists', () => {
    const paths = new Set<string>();
    for (const { text } of sources) {
      for (const m of text.matchAll(/'((?:scripts|data|deploy)\/[\w./-]+\.(?:sh|json|ya?ml))'/g)) paths.add(m[1]!);
    }
    expect(paths.size).toBeGreaterThan(3);
    expect([...paths].filter((p) => !existsSync(path.join(repoRoot, p)))).toEqual([]);
    expect(existsSync(path.join(repoRoot, 'Dockerfile'))).toBe(true);
    expect(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8')).toMatch(/ARG MODEL_DIR_CONTEXT/);
  });

  it('smoke-test drives `npm run image:smoke` against the service through SMOKE_BASE_URL, which smoke.ts must honour', () => {
    const module = sources.map((s) => s.text).join('\n');
    expect(module).toMatch(/withEnvVariable\(\s*'SMOKE_BASE_URL',\s*`http:\/\/api:\$\{imageContract\.port\}`\)/);
    const smoke = ['scripts/image/check/smoke.ts', 'scripts/image/check/smoke-checks.ts']
      .filter((f) => existsSync(path.join(repoRoot, f)))
      .map((f) => readFileSync(path.join(repoRoot, f), 'utf8'))
      .join('\n');
    expect(smoke.includes('SMOKE_BASE_URL'), 'scripts/image/smoke*.ts must read SMOKE_BASE_URL (HTTP checks against a running API)').toBe(
      true,
    );
  });
});

describe('retrain and retrain-trigger: the npm scripts they run through the trainer image', () => {
  const module = readFileSync(path.join(repoRoot, 'dagger/src/index.ts'), 'utf8');
  const named = (key: string) => module.match(new RegExp(`\\b${key}: '([^']+)'`))?.[1];

  it('the trainer image runs `npm run` as its entrypoint and the module names the two scripts once', () => {
    expect(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8')).toMatch(
      /FROM \$\{BASE_IMAGE\} AS trainer[\s\S]*ENTRYPOINT \["npm", "run", "--silent"\]/,
    );
    expect([named('retrain'), named('trigger')]).toEqual([...TRAINER_SCRIPTS]);
    expect(module).toMatch(/dockerBuild\(\{ target: 'trainer'/);
  });

  it.runIf(trainerScriptsDefined())('package.json defines them', () => {
    for (const script of TRAINER_SCRIPTS) expect(packageScripts(), script).toHaveProperty([script]);
  });
});

describe.skipIf(!withSdk)('Jenkinsfile and GitHub workflow call only functions the module has', () => {
  const checkCall = (call: DaggerCall) => {
    const fn = Object.values(main.methods).find((f) => kebab(f.name) === call.function);
    const problems: string[] = [];
    if (!fn) problems.push(`${call.function}: no such function`);
    const ctorFlags = new Set(Object.keys(main.constructor?.arguments ?? {}).map(kebab));
    for (const flag of call.constructorFlags) if (!ctorFlags.has(flag)) problems.push(`--${flag}: not a module (constructor) argument`);
    const fnFlags = new Set(Object.keys(fn?.arguments ?? {}).map(kebab));
    for (const flag of call.functionFlags) if (!fnFlags.has(flag)) problems.push(`${call.function} --${flag}: no such argument`);
    return problems;
  };

  it('Jenkinsfile: every sh step is a dagger call to an existing function with existing flags', () => {
    const steps = jenkinsShellSteps(jenkinsfile);
    expect(steps.length).toBeGreaterThan(0);
    const problems: string[] = [];
    const called: string[] = [];
    for (const step of steps) {
      if (!/\bdagger\b[^|;&]*\bcall\b/.test(step)) {
        problems.push(`not a dagger call: ${step}`);
        continue;
      }
      const call = parseDaggerCall(step, main);
      called.push(call.function);
      problems.push(...checkCall(call).map((p) => `${p} (in: ${step})`));
    }
    expect(problems).toEqual([]);
    expect(called).toEqual(expect.arrayContaining(['ci', 'train', 'deploy']));
  });

  it('Jenkinsfile deploys on main only, with the kubeconfig from the minikube-kubeconfig file credential', () => {
    const deployStage = /stage\('Deploy'\)\s*\{([\s\S]*?)\n {4}\}/.exec(jenkinsfile)?.[1] ?? '';
    expect(deployStage).toMatch(/when\s*\{\s*branch 'main'\s*\}/);
    expect(deployStage).toContain("file(credentialsId: 'minikube-kubeconfig', variable: 'KUBECONFIG_FILE')");
    expect(deployStage).toMatch(/--kubeconfig "file:\$KUBECONFIG_FILE"/);
    expect(jenkinsfile).toMatch(/archiveArtifacts[^\n]*artifacts\/report\.html/);
  });

  it('workflow: dagger-for-github v8 pinned to the SDK version, calling existing functions with existing flags', () => {
    const { calls, actionVersions, actionRefs } = workflowDaggerCalls(workflow);
    const sdkVersion = (JSON.parse(readFileSync(path.join(sdkDir, 'package.json'), 'utf8')) as { version: string }).version;
    expect(actionRefs.length).toBeGreaterThan(0);
    expect(actionRefs.every((r) => r === 'dagger/dagger-for-github@v8')).toBe(true);
    expect(new Set(actionVersions)).toEqual(new Set([sdkVersion]));
    const parsed = calls.map((c) => parseDaggerCall(c, main));
    expect(parsed.flatMap(checkCall)).toEqual([]);
    expect(parsed.map((c) => c.function)).toEqual(expect.arrayContaining(['ci', 'publish', 'deploy']));
  });
});

describe.skipIf(!withSdk)('call parsing (guards the checks above against passing vacuously)', () => {
  it('rejects an unknown function, an unknown flag and an unknown constructor flag', () => {
    const problemsOf = (command: string) => {
      const call = parseDaggerCall(command, main);
      const fn = Object.values(main.methods).find((f) => kebab(f.name) === call.function);
      return [
        ...(fn ? [] : [call.function]),
        ...call.functionFlags.filter(
          (f) =>
            !Object.keys(fn?.arguments ?? {})
              .map(kebab)
              .includes(f),
        ),
        ...call.constructorFlags.filter(
          (f) =>
            !Object.keys(main.constructor?.arguments ?? {})
              .map(kebab)
              .includes(f),
        ),
      ];
    };
    expect(problemsOf('dagger call deploy-all')).toEqual(['deploy-all']);
    expect(problemsOf('dagger call train --min-auc 0.9 --epochs 3')).toEqual(['epochs']);
    expect(problemsOf('dagger call --colour red ci')).toEqual(['colour']);
    expect(problemsOf('dagger --progress=plain call --commit "$GIT_COMMIT" train --mlflow export --path artifacts')).toEqual([]);
    expect(
      parseDaggerCall('dagger call --commit ${{ github.sha }} publish --registry x --username y --password env:T', main),
    ).toMatchObject({
      function: 'publish',
      constructorFlags: ['commit'],
      functionFlags: ['registry', 'username', 'password'],
    });
  });

  it('finds npm invocations in exec arrays and in shell strings', () => {
    expect(npmInvocations(`withExec(['npm', 'run', 'image:smoke', '--'])`)).toEqual([{ verb: 'run', script: 'image:smoke' }]);
    expect(npmInvocations(`'bash scripts/ci/start-docker.sh && npm run build && npm test -- --x'`)).toEqual([
      { verb: 'run', script: 'build' },
      { verb: 'test' },
    ]);
  });
});
