/**
 * One pipeline for the laptop, Jenkins and GitHub Actions: lint, test, train, build, smoke-test, publish and deploy
 * the heart-disease model API, each step in containers.
 *
 * Every step runs the project's own npm scripts (package.json) so the pipeline never drifts from what a developer
 * runs natively; `dagger call ci` runs lint → test → train → build → smoke-test and stops at the first failing step.
 */
// Only names the engine's module runtime serves (its generated sdk/index.ts: decorators and the generated client);
// test/dagger/engine-runtime.test.ts checks every import against that list.
import {
  argument,
  CacheSharingMode,
  Container,
  dag,
  Directory,
  File,
  float,
  func,
  object,
  ReturnType,
  Secret,
  Service,
} from '@dagger.io/dagger';
import { imageTag, modelCardSummary, readContract, type ArtifactContract, type ModelCardSummary } from './contract.js';
import { describeError } from './failed-exec.js';
import { engineKubeconfig, type TunnelMode } from './kubeconfig.js';

const MLFLOW_PORT = 5000;
/** Go toolchain for building Helm with scripts/ci/install-helm.sh (same link flags as CI uses natively). */
const GO_IMAGE = 'golang:1.26-bookworm';
/** Python for the MLflow server, installed by scripts/ci/install-mlflow.sh at its pinned version. */
const PYTHON_IMAGE = 'python:3.12-slim-bookworm';
const WORKDIR = '/src';
/** The service alias the deploy reaches a tunnelled API server by (kubeconfig.ts). */
const KUBE_API_ALIAS = 'kube-api';
/** For e2e: a single-node k3s, a registry it pulls the test images from, and skopeo to push them there. */
const K3S_IMAGE = 'rancher/k3s:v1.33.1-k3s1';
const REGISTRY_IMAGE = 'registry:2.8.3';
const SKOPEO_IMAGE = 'quay.io/skopeo/stable:v1.18.0';

/**
 * Retraining as the trainer image runs it (the Dockerfile's trainer stage, entrypoint `npm run --silent`): the npm
 * scripts, the flags they are given, their exit codes, and the paths the image's user writes. One place to adjust.
 */
const TRAINER = {
  retrain: 'retrain',
  trigger: 'retrain:trigger',
  apiUrlFlag: '--api-url',
  dataFlag: '--data',
  /** npm run retrain: 0 promoted, 3 kept (the challenger lost: a result, not an error), anything else failed. */
  retrainVerdicts: { 0: 'promoted', 3: 'kept' } as Record<number, string>,
  /** npm run retrain:trigger: 0 no action, promoted or kept; anything else failed. */
  triggerVerdicts: { 0: 'done' } as Record<number, string>,
  user: '10001:10001',
  writable: ['/app/data/raw', '/app/runs', '/app/artifacts'],
  /** Where an SQLite prediction log passed as a file is put (its directory writable for the journal). */
  sqliteDir: '/app/prediction-log',
} as const;

interface ManifestEntry {
  file: string;
  url: string;
  sha256: string | null;
}

/** The registry host of an address such as ghcr.io/owner (what registry auth is keyed on). */
function registryHost(registry: string): string {
  return registry.replace(/^[a-z]+:\/\//, '').split('/')[0] ?? registry;
}

@object()
export class HeartDiseaseMlops {
  source: Directory;
  nodeImage: string;
  commit: string;

  constructor(
    /**
     * Project directory (the repository root by default). Dependencies, build outputs, trained artifacts, raw data
     * and run stores are left out so module calls upload little.
     */
    @argument({
      defaultPath: '/',
      ignore: [
        'node_modules',
        '**/node_modules',
        'artifacts',
        'data/raw',
        'runs',
        'dist',
        '.git',
        'dagger/node_modules',
        'dagger/sdk',
        'coverage',
        'test-results',
        '**/.env',
        '**/.env.*',
      ],
    })
    source: Directory,
    /** Node.js image every npm step runs in (the Dockerfile's BASE_IMAGE is set to the same image). */
    nodeImage = 'node:24-bookworm-slim',
    /** Git commit the artifacts and image labels record (pass $GIT_COMMIT or ${{ github.sha }} in CI). */
    commit = 'unknown',
  ) {
    this.source = source;
    this.nodeImage = nodeImage;
    this.commit = commit;
  }

  /** Lint and type-check: `npm run lint`, `npm run typecheck` and tsc over this Dagger module. */
  @func()
  async lint(): Promise<string> {
    return this.workspace(this.nodeBase(), { withModuleDeps: true })
      .withExec(['npm', 'run', 'lint'])
      .withExec(['npm', 'run', 'typecheck'])
      .withExec(['npx', 'tsc', '-p', 'dagger/tsconfig.json', '--noEmit'])
      .stdout();
  }

  /**
   * The whole test suite (`npm test`) with CI=true, so no test may skip: the same real components CI installs
   * natively (scripts/ci/install-*.sh: Docker engine, Prometheus, MLflow, ...; Helm built from source) run inside a
   * privileged container, with the trained model in artifacts/ and the UCI data in UCI_DATA_DIR.
   */
  @func()
  async test(
    /** Trained artifacts to test against (default: train() with its defaults). */
    artifacts?: Directory,
    /** UCI data directory for UCI_DATA_DIR (default: the verified UCI download of every pinned file). */
    data?: Directory,
  ): Promise<string> {
    const model = artifacts ?? (await this.train());
    const uci = data ?? (await this.uciFiles('all'));
    return (
      this.workspace(this.testToolchain(), { withModuleDeps: true })
        // Tests compare recorded commits with `git rev-parse HEAD`; .git is not uploaded, so the snapshot gets its own.
        .withExec([
          'bash',
          '-c',
          'git init -q && git add -A && git -c user.name=dagger -c user.email=dagger@localhost commit -qm "source snapshot"',
        ])
        .withDirectory(`${WORKDIR}/artifacts`, model)
        .withMountedDirectory('/data', uci)
        .withEnvVariable('UCI_DATA_DIR', '/data')
        .withEnvVariable('CI', 'true')
        // Docker's storage on a cache volume: overlay2 works there (not on the container's own overlay) and pulled
        // base images survive between runs.
        .withMountedCache('/var/lib/docker', dag.cacheVolume('heart-disease-docker-engine'), { sharing: CacheSharingMode.Private })
        .withExec(
          [
            'bash',
            '-euo',
            'pipefail',
            '-c',
            [
              'bash scripts/ci/start-docker.sh',
              'npm run build',
              'npm test -- --reporter=default --reporter=json --outputFile.json=/tmp/vitest.json',
              // Same gate as .ci/run: a run with skipped, failed or zero tests fails.
              `node -e 'const r=require("/tmp/vitest.json");const s=r.numPendingTests+r.numTodoTests;` +
                `console.log("vitest: "+r.numPassedTests+" passed, "+r.numFailedTests+" failed, "+s+" skipped of "+r.numTotalTests);` +
                `if(s>0||r.numFailedTests>0||r.numTotalTests===0)process.exit(1)'`,
            ].join(' && '),
          ],
          { insecureRootCapabilities: true },
        )
        .stdout()
    );
  }

  /**
   * Train both models, select one and export it (`npm run train`); returns the artifacts directory with
   * model.onnx, model.json and report.html. Fails (exit 3) when the quality gate is not met.
   */
  @func()
  async train(
    /** Directory of UCI processed.*.data files (default: processed.cleveland.data downloaded from UCI, sha256-verified, cached). */
    data?: Directory,
    /** Seed for the splits and the random forest. */
    seed = 42,
    // Optional rather than `= 0.85`: the SDK's introspection reads numeric defaults with parseInt (0.85 -> 0).
    /** Quality gate on the selected model's cross-validated ROC-AUC, 0 to 1 (default: the training CLI's, 0.85). */
    minAuc?: float,
    /** Log the run to an MLflow server started as a service (runs kept in a cache volume; browse with mlflow-server). */
    mlflow = false,
  ): Promise<Directory> {
    const uci = data ?? (await this.uciFiles('default'));
    let trainer = this.workspace(this.nodeBase()).withMountedDirectory('/data', uci).withEnvVariable('GIT_COMMIT', this.commit);
    if (mlflow) {
      trainer = trainer
        .withServiceBinding('mlflow', this.mlflowServer())
        .withEnvVariable('MLFLOW_TRACKING_URI', `http://mlflow:${MLFLOW_PORT}`)
        .withEnvVariable('MLFLOW_EXPERIMENT_NAME', 'heart-disease')
        // A logged run is a side effect: never answer an --mlflow call from cache.
        .withEnvVariable('MLFLOW_RUN_REQUESTED_AT', new Date().toISOString());
    }
    return trainer
      .withExec([
        'npm',
        'run',
        'train',
        '--',
        '--data',
        '/data',
        '--out',
        '/artifacts',
        '--runs-dir',
        '/tmp/runs',
        '--seed',
        String(seed),
        ...(minAuc === undefined ? [] : ['--min-auc', String(minAuc)]),
      ])
      .directory('/artifacts');
  }

  /**
   * The API image from the project's Dockerfile (Directory.dockerBuild) with the trained model baked in and the
   * OCI labels (model version, revision, version) set.
   */
  @func()
  async build(
    /** Trained artifacts to bake in (default: train() with its defaults). */
    artifacts?: Directory,
  ): Promise<Container> {
    const model = artifacts ?? (await this.train());
    const card = await this.modelCard(model);
    const contract = await this.contract();
    const pkg = JSON.parse(await this.source.file('package.json').contents()) as { version?: string };
    const image = this.source.withDirectory('artifacts', model).dockerBuild({
      buildArgs: [
        { name: 'BASE_IMAGE', value: this.nodeImage },
        { name: 'MODEL_DIR_CONTEXT', value: 'artifacts' },
      ],
    });
    // The same labels `npm run image:build` sets (src/contract/image.ts imageLabels), keys from the contract file.
    const keys = contract.image.labels;
    const labels: Record<string, string> = {
      ...contract.image.fixedLabels,
      [keys.modelVersion]: card.modelVersion,
      [keys.title]: contract.image.name,
      [keys.source]: contract.image.defaultSource,
      [keys.revision]: this.commit,
      [keys.version]: pkg.version ?? '0.0.0',
      // The model's creation time, not the wall clock: the same model gives the same image.
      [keys.created]: card.createdAt,
    };
    return Object.entries(labels).reduce((container, [key, value]) => container.withLabel(key, value), image);
  }

  /**
   * Start build() as a service and run the image smoke checks over HTTP against it (`npm run image:smoke` with
   * SMOKE_BASE_URL), plus the image's user and model-version label; returns the checks' report.
   */
  @func()
  async smokeTest(
    /** Trained artifacts the image is built with and its answers are compared against (default: train()). */
    artifacts?: Directory,
  ): Promise<string> {
    const model = artifacts ?? (await this.train());
    const image = await this.build(model);
    const card = await this.modelCard(model);

    const { image: imageContract } = await this.contract();
    const label = await image.label(imageContract.labels.modelVersion);
    if (label !== card.modelVersion) {
      throw new Error(`image label ${imageContract.labels.modelVersion} is '${label}', expected model ${card.modelVersion}`);
    }
    const user = await image.user();
    if (!/^[1-9]\d*(:\d+)?$/.test(user)) throw new Error(`image USER '${user}' is not a numeric non-root user`);

    const api = image.withExposedPort(imageContract.port).asService({ useEntrypoint: true });
    const report = await this.workspace(this.nodeBase())
      .withDirectory(`${WORKDIR}/artifacts`, model)
      .withMountedDirectory('/data', await this.uciFiles('default'))
      .withEnvVariable('UCI_DATA_DIR', '/data')
      .withServiceBinding('api', api)
      .withEnvVariable('SMOKE_BASE_URL', `http://api:${imageContract.port}`)
      .withExec(['npm', 'run', 'image:smoke', '--', '--model-dir', 'artifacts'])
      .stdout();
    return `image user ${user}, model label ${label}\n${report}`;
  }

  /**
   * The CI pipeline: lint → test → train → build → smoke-test. Stops at the first failing step and names it;
   * returns a summary of every step.
   */
  @func()
  async ci(): Promise<string> {
    const summary: string[] = [];
    let artifacts: Directory | undefined;
    const steps: Array<[string, () => Promise<string>]> = [
      [
        'lint',
        async () => {
          await this.lint();
          return 'eslint, prettier, tsc (project and Dagger module) clean';
        },
      ],
      ['test', async () => lastLines(await this.test(), 3)],
      [
        'train',
        async () => {
          artifacts = await this.train();
          const card = await this.modelCard(artifacts);
          return `model ${card.modelVersion}; files: ${(await artifacts.entries()).join(', ')}`;
        },
      ],
      [
        'build',
        async () => {
          const image = await (await this.build(artifacts)).sync();
          return `image built from Dockerfile, model label ${await image.label((await this.contract()).image.labels.modelVersion)}`;
        },
      ],
      ['smoke-test', async () => lastLines(await this.smokeTest(artifacts), 2)],
    ];
    for (const [name, run] of steps) {
      const started = Date.now();
      let detail: string;
      try {
        detail = await run();
      } catch (error) {
        const done = summary.length ? `\npassed before it:\n${summary.join('\n')}` : '';
        throw new Error(`ci failed at step '${name}': ${describeError(error)}${done}`, { cause: error });
      }
      summary.push(`PASS ${name.padEnd(10)} ${((Date.now() - started) / 1000).toFixed(1)} s  ${detail}`);
    }
    return `${summary.join('\n')}\nci: all ${steps.length} steps passed`;
  }

  /** Push build() to a registry and return the pushed reference with its digest (registry/heart-disease-api:tag@sha256:…). */
  @func({ cache: 'never' })
  async publish(
    /** Registry and namespace to push to, e.g. ghcr.io/my-org (the image name heart-disease-api is appended). */
    registry: string,
    /** Registry user name. */
    username: string,
    /** Registry password or token (e.g. env:GITHUB_TOKEN). */
    password: Secret,
    /** Image tag (default: the trained model's version). */
    tag?: string,
  ): Promise<string> {
    const model = await this.train();
    const version = (await this.modelCard(model)).modelVersion;
    const address = `${registry.replace(/\/+$/, '')}/${(await this.contract()).image.name}:${imageTag(tag ?? version)}`;
    return (await this.build(model)).withRegistryAuth(registryHost(registry), username, password).publish(address);
  }

  /** The API as a service: `dagger call serve up --ports 8000:8000`, then http://127.0.0.1:8000/docs. */
  @func()
  async serve(
    /** Trained artifacts to serve (default: train()). */
    artifacts?: Directory,
  ): Promise<Service> {
    const { image } = await this.contract();
    return (await this.build(artifacts)).withExposedPort(image.port).asService({ useEntrypoint: true });
  }

  /**
   * Load build() into the Docker engine the CLI talks to, tagged heart-disease-api:<model version>; run after
   * `eval $(minikube docker-env)` that engine is Minikube's (the CLI, on the host, talks to it, so the engine never
   * needs to reach Minikube). Returns the image reference for deploy --image. Without a Docker socket (Minikube's
   * containerd or CRI-O runtime, or no docker-env): `dagger call build export --path image.tar` and then
   * `minikube image load image.tar`.
   */
  @func({ cache: 'never' })
  async minikubeLoad(
    /** Image tag (default: the trained model's version). */
    tag?: string,
  ): Promise<string> {
    const model = await this.train();
    const reference = `${(await this.contract()).image.name}:${imageTag(tag ?? (await this.modelCard(model)).modelVersion)}`;
    await (await this.build(model)).exportImage(reference);
    return reference;
  }

  /**
   * Deploy to the cluster in the kubeconfig with the project's deploy code (`npm run deploy`: a Helm release, live
   * rollout progress, `helm rollback` on failure, a check through the Service). For Minikube pass the file
   * `kubectl config view --flatten --minify > kubeconfig` writes (certificates embedded) as --kubeconfig file:kubeconfig.
   * A server on the host's loopback or a network only the host reaches (Minikube's) is reached through a tunnel to
   * the host, with the certificate still checked against the kubeconfig's server name (dagger/src/kubeconfig.ts).
   */
  @func({ cache: 'never' })
  async deploy(
    /** Kubeconfig of the target cluster (a secret: file:./kubeconfig or env:KUBECONFIG_CONTENT). */
    kubeconfig: Secret,
    /** Namespace to deploy into. */
    namespace = 'heart-disease',
    /** Helm values file, relative to the project root. */
    values = 'deploy/helm/heart-disease-api/values-dev.yaml',
    /** Image reference (default: heart-disease-api:<model version>, the image minikube-load puts into Minikube; pulled only if not present). */
    image?: string,
    /** How long to wait for the rollout before rolling back. */
    timeout = '300s',
    /** Reach the API server through the host: auto (loopback, private networks, host-only names), always or never. */
    tunnel = 'auto',
  ): Promise<string> {
    if (!['auto', 'always', 'never'].includes(tunnel)) throw new Error(`--tunnel must be auto, always or never, got '${tunnel}'`);
    const card = image ? undefined : await this.modelCard(await this.train());
    const reference = image ?? `${(await this.contract()).image.name}:${imageTag(card!.modelVersion)}`;
    const forEngine = engineKubeconfig(await kubeconfig.plaintext(), KUBE_API_ALIAS, tunnel as TunnelMode);
    let deployer = this.workspace(
      this.nodeBase().withFile('/usr/local/bin/helm', this.goBuilt('scripts/ci/install-helm.sh', '/go/bin/helm')),
    );
    if (forEngine.tunnel) {
      const { host, port } = forEngine.tunnel;
      deployer = deployer.withServiceBinding(KUBE_API_ALIAS, dag.host().service([{ frontend: port, backend: port }], { host }));
    }
    return (
      deployer
        .withMountedSecret('/run/secrets/kubeconfig', dag.setSecret(`heart-disease-kubeconfig-${Date.now()}`, forEngine.text))
        // A deploy acts on a cluster: never answer it from the exec cache.
        .withEnvVariable('DEPLOY_REQUESTED_AT', new Date().toISOString())
        .withExec([
          'npm',
          'run',
          'deploy',
          '--',
          '--kubeconfig',
          '/run/secrets/kubeconfig',
          '--namespace',
          namespace,
          '--values',
          values,
          '--image',
          reference,
          '--timeout',
          timeout,
          // The model the image was built with: the Service must answer with it after the rollout.
          ...(card ? ['--model-version', card.modelVersion] : []),
        ])
        .stdout()
    );
  }

  /**
   * The end-to-end deploy suite (test/e2e, as `.ci/run` runs it on the project's own cluster) against a single-node
   * k3s started as a service: the images of two model versions and of a broken model are built, pushed to a
   * registry service k3s pulls from, and `npm run deploy` installs, upgrades under load, rolls back, and meets the
   * prod values' HPA and PDB. Like the project's cluster, k3s runs without NetworkPolicy enforcement here.
   */
  @func({ cache: 'never' })
  async e2e(
    /** Trained artifacts of the first model version (default: train()). */
    artifacts?: Directory,
  ): Promise<string> {
    const contract = await this.contract();
    const v1 = artifacts ?? (await this.train());
    const v2 = await this.train(undefined, 7);
    // Same model, another contract version: the API starts, refuses it, and never becomes ready.
    const broken = this.nodeBase()
      .withDirectory('/model', v1)
      .withExec([
        'node',
        '-e',
        `const fs=require('fs'),f='/model/${contract.files.card}',c=JSON.parse(fs.readFileSync(f));c.contractVersion++;fs.writeFileSync(f,JSON.stringify(c))`,
      ])
      .directory('/model');
    const repository = `registry:5000/${contract.image.name}-e2e`;
    const [v1Version, v2Version] = [(await this.modelCard(v1)).modelVersion, (await this.modelCard(v2)).modelVersion];
    const images = {
      v1: { ref: `${repository}:${imageTag(v1Version)}`, modelVersion: v1Version },
      v2: { ref: `${repository}:${imageTag(v2Version)}`, modelVersion: v2Version },
      broken: { ref: `${repository}:${imageTag(`${v1Version}-broken-contract`)}`, modelVersion: v1Version },
      missing: `${repository}:missing`,
    };

    const registry = dag
      .container()
      .from(REGISTRY_IMAGE)
      .withMountedCache('/var/lib/registry', dag.cacheVolume('heart-disease-e2e-registry'))
      .withExposedPort(5000)
      .asService();
    await registry.start();
    try {
      let pusher = dag.container().from(SKOPEO_IMAGE).withServiceBinding('registry', registry);
      for (const [name, model] of [
        ['v1', v1],
        ['v2', v2],
        ['broken', broken],
      ] as const) {
        pusher = pusher
          .withFile(`/images/${name}.tar`, (await this.build(model)).asTarball())
          .withExec(['skopeo', 'copy', '--dest-tls-verify=false', `oci-archive:/images/${name}.tar`, `docker://${images[name].ref}`]);
      }
      await pusher.sync();

      const run = `${Date.now()}`;
      const shared = dag.cacheVolume('heart-disease-e2e-k3s-config');
      const k3s = dag
        .container()
        .from(K3S_IMAGE)
        .withNewFile('/etc/rancher/k3s/registries.yaml', 'mirrors:\n  "registry:5000":\n    endpoint: ["http://registry:5000"]\n')
        .withServiceBinding('registry', registry)
        .withMountedCache('/shared', shared)
        .withMountedTemp('/var/lib/rancher')
        .withMountedTemp('/var/lib/kubelet')
        .withMountedTemp('/var/log')
        .withExposedPort(6443)
        .withExposedPort(30080, { experimentalSkipHealthcheck: true })
        .asService({
          args: [
            'sh',
            '-c',
            // k3s delegates cgroup v2 controllers to its pods only when it runs as PID 1; as a service it does not,
            // so the processes leave the root cgroup and the controllers are enabled for the children first.
            'if [ -f /sys/fs/cgroup/cgroup.controllers ]; then mkdir -p /sys/fs/cgroup/k3s-init; ' +
              'for p in $(cat /sys/fs/cgroup/cgroup.procs); do echo $p > /sys/fs/cgroup/k3s-init/cgroup.procs 2>/dev/null || true; done; ' +
              "sed 's/[^ ][^ ]*/+&/g' /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control; fi; " +
              `mkdir -p /shared/${run} && exec k3s server --node-name k3s-e2e --tls-san k3s --disable traefik --disable-network-policy ` +
              `--egress-selector-mode disabled --write-kubeconfig /shared/${run}/k3s.yaml --write-kubeconfig-mode 644`,
          ],
          insecureRootCapabilities: true,
        });
      const cluster = {
        kubeconfig: '/cluster/kubeconfig',
        kubectl: '/usr/local/bin/kubectl',
        containerdSocket: '',
        nodeName: 'k3s-e2e',
        nodeIP: 'k3s',
        kubernetesVersion: K3S_IMAGE.split(':')[1]!.replace(/-k3s\d+$/, ''),
        seconds: { nodeReady: 0, corednsReady: 0, metricsReady: 0 },
      };
      return await this.workspace(
        this.nodeBase().withFile('/usr/local/bin/helm', this.goBuilt('scripts/ci/install-helm.sh', '/go/bin/helm')),
      )
        .withFile('/usr/local/bin/k3s', dag.container().from(K3S_IMAGE).file('/bin/k3s'))
        .withExec(['ln', '-s', 'k3s', '/usr/local/bin/kubectl']) // k3s is multi-call: named kubectl, it is kubectl
        .withMountedDirectory('/data', await this.uciFiles('default'))
        .withMountedCache('/shared', shared)
        .withServiceBinding('k3s', k3s)
        .withNewFile('/cluster/cluster.json', JSON.stringify(cluster))
        // What test/e2e reads instead of building and loading images and reaching NodePorts on 127.0.0.1.
        .withEnvVariable('HD_CLUSTER_DIR', '/cluster')
        .withEnvVariable('E2E_IMAGES', JSON.stringify(images))
        .withEnvVariable('E2E_NODE_ADDRESS', 'k3s')
        .withEnvVariable('UCI_DATA_DIR', '/data')
        .withEnvVariable('CI', 'true')
        .withEnvVariable('E2E_RUN', run)
        .withExec([
          'bash',
          '-euo',
          'pipefail',
          '-c',
          // k3s writes its kubeconfig for 127.0.0.1; the suite reaches it by the service alias (in --tls-san).
          `for i in $(seq 120); do [ -s /shared/${run}/k3s.yaml ] && break; sleep 1; done; ` +
            `sed 's#https://127.0.0.1:6443#https://k3s:6443#' /shared/${run}/k3s.yaml > /cluster/kubeconfig; ` +
            `until kubectl --kubeconfig /cluster/kubeconfig wait --for=condition=Ready node/k3s-e2e --timeout=5s >/dev/null 2>&1; do sleep 2; done; ` +
            'kubectl --kubeconfig /cluster/kubeconfig -n kube-system rollout status deployment/metrics-server --timeout=180s; ' +
            // The retraining CronJob's test needs MLflow and PostgreSQL on the cluster's host: the project's cluster only.
            'npx vitest run test/e2e/deploy.test.ts',
        ])
        .stdout();
    } finally {
      await registry.stop();
    }
  }

  /**
   * Retrain on the original data plus the prediction log's labelled rows (`npm run retrain` in the trainer image, the
   * Dockerfile's trainer stage): champion and challenger scored on the same held-out rows, the challenger promoted
   * only under the retraining rule. Returns the verdict (promoted, or kept: not an error) and the command's output;
   * a failed retraining fails the call.
   */
  @func({ cache: 'never' })
  async retrain(
    /** MLflow tracking server holding the registered model (http(s)://...; not needed with --mlflow). */
    mlflowTrackingUri?: string,
    /** Use the module's MLflow server (mlflow-server, runs kept in a cache volume) instead of --mlflow-tracking-uri. */
    mlflow = false,
    /** MLFLOW_TRACKING_TOKEN for the tracking server, if it needs one (a secret: env:MLFLOW_TRACKING_TOKEN). */
    mlflowToken?: Secret,
    /** PostgreSQL URL of the prediction log (a secret: env:DATABASE_URL). */
    databaseUrl?: Secret,
    /** SQLite prediction log file, when the log is not PostgreSQL. */
    predictionLog?: File,
    /** Directory of UCI processed.*.data files (default: processed.cleveland.data downloaded from UCI, sha256-verified). */
    data?: Directory,
  ): Promise<string> {
    const trainer = await this.trainer({ mlflowTrackingUri, mlflow, mlflowToken, databaseUrl, predictionLog, data });
    return this.runTrainer(trainer.container, [TRAINER.retrain, '--', ...trainer.dataArgs], TRAINER.retrainVerdicts);
  }

  /**
   * Act on drift (`npm run retrain:trigger` in the trainer image): reads the API's /drift/status, the labelled count in
   * the prediction log and the cool-down kept in MLflow, and retrains when they say so. For CI and schedulers; the
   * chart's CronJob runs the same command. Returns the command's output; a failure fails the call.
   */
  @func({ cache: 'never' })
  async retrainTrigger(
    /** Address of the API whose /drift/status is read, as the trainer container reaches it (http://api:8000 with --api). */
    apiUrl: string,
    /** The API as a service, bound as host `api` (e.g. --api tcp://localhost:8000 for one on the host). */
    api?: Service,
    /** MLflow tracking server holding the registered model (http(s)://...; not needed with --mlflow). */
    mlflowTrackingUri?: string,
    /** Use the module's MLflow server (mlflow-server) instead of --mlflow-tracking-uri. */
    mlflow = false,
    /** MLFLOW_TRACKING_TOKEN for the tracking server, if it needs one (a secret). */
    mlflowToken?: Secret,
    /** PostgreSQL URL of the prediction log (a secret: env:DATABASE_URL). */
    databaseUrl?: Secret,
    /** SQLite prediction log file, when the log is not PostgreSQL. */
    predictionLog?: File,
    /** Directory of UCI processed.*.data files for a retraining it starts (default: the verified UCI download). */
    data?: Directory,
  ): Promise<string> {
    const trainer = await this.trainer({ mlflowTrackingUri, mlflow, mlflowToken, databaseUrl, predictionLog, data });
    const container = api ? trainer.container.withServiceBinding('api', api) : trainer.container;
    return this.runTrainer(container, [TRAINER.trigger, '--', TRAINER.apiUrlFlag, apiUrl, ...trainer.dataArgs], TRAINER.triggerVerdicts);
  }

  /**
   * The MLflow tracking server train --mlflow logs to, with its runs kept in a cache volume:
   * `dagger call mlflow-server up --ports 5000:5000` to browse them at http://127.0.0.1:5000.
   */
  @func()
  mlflowServer(): Service {
    const store = '/mlflow';
    return dag
      .container()
      .from(PYTHON_IMAGE)
      .withMountedCache('/root/.cache/pip', dag.cacheVolume('pip'))
      .withFile('/opt/ci/install-mlflow.sh', this.source.file('scripts/ci/install-mlflow.sh'))
      .withExec(['bash', '/opt/ci/install-mlflow.sh'])
      .withMountedCache(store, dag.cacheVolume('heart-disease-mlflow-store'))
      .withExposedPort(MLFLOW_PORT)
      .asService({
        args: [
          'bash',
          '-c',
          `mkdir -p ${store}/artifacts && exec mlflow server --host 0.0.0.0 --port ${MLFLOW_PORT} --workers 1 ` +
            `--backend-store-uri sqlite:///${store}/mlflow.db --artifacts-destination ${store}/artifacts --serve-artifacts ` +
            // MLflow >= 3.5 rejects unknown Host headers; allow the service alias and the `up` tunnel.
            `--allowed-hosts mlflow,mlflow:${MLFLOW_PORT},localhost,localhost:${MLFLOW_PORT},127.0.0.1,127.0.0.1:${MLFLOW_PORT}`,
        ],
      });
  }

  /**
   * The trainer image built from the source (Dockerfile target trainer, same base as the API) with the MLflow server,
   * the prediction log and the training data it needs; its non-root user owns the paths it writes.
   */
  private async trainer(options: {
    mlflowTrackingUri?: string;
    mlflow: boolean;
    mlflowToken?: Secret;
    databaseUrl?: Secret;
    predictionLog?: File;
    data?: Directory;
  }): Promise<{ container: Container; dataArgs: string[] }> {
    if (options.mlflow === (options.mlflowTrackingUri !== undefined)) {
      throw new Error('give exactly one of --mlflow-tracking-uri and --mlflow');
    }
    if (options.databaseUrl && options.predictionLog) throw new Error('give at most one of --database-url and --prediction-log');
    const uci = options.data ?? (await this.uciFiles('default'));
    const files = (await uci.entries()).filter((name) => name.endsWith('.data')).sort();
    if (files.length === 0) throw new Error('--data: the directory holds no processed.*.data file');

    let container = this.source
      .dockerBuild({ target: 'trainer', buildArgs: [{ name: 'BASE_IMAGE', value: this.nodeImage }] })
      .withMountedDirectory('/data', uci)
      // A retraining is a side effect on the registry: never answer it from the exec cache.
      .withEnvVariable('RETRAIN_REQUESTED_AT', new Date().toISOString());
    for (const dir of TRAINER.writable) container = container.withDirectory(dir, dag.directory(), { owner: TRAINER.user });
    if (options.mlflow) {
      container = container
        .withServiceBinding('mlflow', this.mlflowServer())
        .withEnvVariable('MLFLOW_TRACKING_URI', `http://mlflow:${MLFLOW_PORT}`);
    } else {
      container = container.withEnvVariable('MLFLOW_TRACKING_URI', options.mlflowTrackingUri!);
    }
    if (options.mlflowToken) container = container.withSecretVariable('MLFLOW_TRACKING_TOKEN', options.mlflowToken);
    if (options.databaseUrl) container = container.withSecretVariable('DATABASE_URL', options.databaseUrl);
    if (options.predictionLog) {
      container = container
        .withDirectory(TRAINER.sqliteDir, dag.directory().withFile('predictions.db', options.predictionLog), { owner: TRAINER.user })
        .withEnvVariable('PREDICTION_LOG_PATH', `${TRAINER.sqliteDir}/predictions.db`);
    }
    return { container, dataArgs: files.flatMap((name) => [TRAINER.dataFlag, `/data/${name}`]) };
  }

  /** Run an npm script through the trainer image's entrypoint; an exit code outside `verdicts` fails with its output. */
  private async runTrainer(container: Container, args: string[], verdicts: Record<number, string>): Promise<string> {
    const ran = container.withExec(args, { useEntrypoint: true, expect: ReturnType.Any });
    const [code, stdout, stderr] = await Promise.all([ran.exitCode(), ran.stdout(), ran.stderr()]);
    const verdict = verdicts[code];
    if (verdict === undefined) {
      throw new Error(`trainer script ${args[0]} failed with exit code ${code}:\n${lastLines(`${stdout}\n${stderr}`, 40)}`);
    }
    return `trainer script ${args[0]}: ${verdict} (exit ${code})\n${stdout}`;
  }

  /** Node image with the npm cache volume. */
  private nodeBase(): Container {
    return dag
      .container()
      .from(this.nodeImage)
      .withEnvVariable('NPM_CONFIG_UPDATE_NOTIFIER', 'false')
      .withMountedCache('/root/.npm', dag.cacheVolume('npm'));
  }

  /**
   * `base` with the project's dependencies (and, for lint and test, the Dagger module's) installed exactly as locked,
   * then the source: the manifests go in first so a source change does not invalidate the npm ci layers.
   */
  private workspace(base: Container, options: { withModuleDeps?: boolean } = {}): Container {
    let manifests = dag
      .directory()
      .withFile('package.json', this.source.file('package.json'))
      .withFile('package-lock.json', this.source.file('package-lock.json'))
      .withFile('.npmrc', this.source.file('.npmrc'));
    if (options.withModuleDeps) {
      manifests = manifests
        .withFile('dagger/package.json', this.source.file('dagger/package.json'))
        .withFile('dagger/package-lock.json', this.source.file('dagger/package-lock.json'));
    }
    let workspace = base.withWorkdir(WORKDIR).withDirectory(WORKDIR, manifests).withExec(['npm', 'ci', '--no-audit', '--no-fund']);
    if (options.withModuleDeps) workspace = workspace.withExec(['npm', 'ci', '--prefix', 'dagger', '--no-audit', '--no-fund']);
    return workspace.withDirectory(WORKDIR, this.source);
  }

  /**
   * Node image plus the real components the tests need, installed by the same scripts CI runs natively
   * (every scripts/ci/install-*.sh except Helm, which is built in the Go image and copied in).
   */
  private testToolchain(): Container {
    const installers = this.source.directory('scripts/ci');
    return this.nodeBase()
      .withEnvVariable('DEBIAN_FRONTEND', 'noninteractive')
      .withMountedCache('/root/.cache/pip', dag.cacheVolume('pip'))
      .withExec([
        'bash',
        '-c',
        'apt-get update -q && apt-get install -y -q --no-install-recommends bash ca-certificates curl git python3 python3-venv',
      ])
      .withDirectory('/opt/ci', installers)
      .withExec([
        'bash',
        '-euo',
        'pipefail',
        '-c',
        // Go-built tools come from the Go image (below); Node is the image's own.
        'for s in /opt/ci/install-*.sh; do case "$s" in */install-helm.sh|*/install-compose.sh|*/install-node.sh) ;; *) echo "==> $s"; bash "$s" ;; esac; done',
      ])
      .withFile('/usr/local/bin/helm', this.goBuilt('scripts/ci/install-helm.sh', '/go/bin/helm'))
      .withFile('/usr/local/lib/docker/cli-plugins/docker-compose', this.goBuilt('scripts/ci/install-compose.sh', '/out/docker-compose'));
  }

  /**
   * A tool built by one of scripts/ci/install-*.sh in the Go image (the same pinned version and link flags CI uses
   * natively), with the Go module and build caches in cache volumes: Helm, Docker Compose v2.
   */
  private goBuilt(script: string, binary: string): File {
    const installer = `/opt/ci/${script.split('/').pop()}`;
    return dag
      .container()
      .from(GO_IMAGE)
      .withMountedCache('/go/pkg/mod', dag.cacheVolume('go-mod'))
      .withMountedCache('/root/.cache/go-build', dag.cacheVolume('go-build'))
      .withFile(installer, this.source.file(script))
      .withEnvVariable('COMPOSE_PLUGIN_DIR', '/out')
      .withExec(['bash', installer])
      .file(binary);
  }

  /**
   * UCI files from data/manifest.json, downloaded by the engine with their pinned sha256 checked (cached by URL and
   * digest): 'default' is the manifest's default training file, 'all' every file with a pinned sha256.
   */
  private async uciFiles(which: 'default' | 'all'): Promise<Directory> {
    const manifest = JSON.parse(await this.source.file('data/manifest.json').contents()) as {
      default: string;
      files: ManifestEntry[];
    };
    const entries =
      which === 'default' ? manifest.files.filter((f) => f.file === manifest.default) : manifest.files.filter((f) => f.sha256);
    if (entries.length === 0) throw new Error(`data/manifest.json: default file ${manifest.default} is not listed`);
    let dir = dag.directory();
    for (const entry of entries) {
      if (!entry.sha256) {
        throw new Error(`data/manifest.json: ${entry.file} has no pinned sha256; pass --data with a directory holding your copy`);
      }
      dir = dir.withFile(entry.file, dag.http(entry.url, { name: entry.file, checksum: `sha256:${entry.sha256}` }));
    }
    return dir;
  }

  private contract(): Promise<ArtifactContract> {
    return readContract(this.source);
  }

  private async modelCard(artifacts: Directory): Promise<ModelCardSummary> {
    const contract = await this.contract();
    return modelCardSummary(await artifacts.file(contract.files.card).contents(), contract);
  }
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}
