/**
 * Artifacts through the tracking server's artifact proxy (`mlflow server --serve-artifacts`, the default since
 * MLflow 2): clients upload and download over HTTP and need no access to the storage behind it.
 *
 *   proxiedArtifactPath(artifactUri): string            // 'mlflow-artifacts:/1/<run>/artifacts' → '1/<run>/artifacts'
 *   uploadArtifact(client, root, relativePath, bytes)    // PUT  /api/2.0/mlflow-artifacts/artifacts/<root>/<relativePath>
 *   downloadArtifact(client, root, relativePath)         // GET  the same path → bytes
 *   listArtifacts(client, root)                          // GET  /api/2.0/mlflow-artifacts/artifacts?path=<root>
 *
 * `root` is a proxied path as proxiedArtifactPath returns it (a run's artifact root, a model version's directory).
 */
import { MlflowError, type MlflowClient } from './client.js';

const ARTIFACTS_API = '/api/2.0/mlflow-artifacts/artifacts';

/** The path under /api/2.0/mlflow-artifacts/artifacts/ that holds an artifact URI's files. */
export function proxiedArtifactPath(artifactUri: string): string {
  const anchor = `${ARTIFACTS_API}/`;
  let url: URL;
  try {
    url = new URL(artifactUri);
  } catch {
    url = new URL('file:///');
  }
  if (url.protocol === 'mlflow-artifacts:') return url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.pathname.includes(anchor)) {
    return url.pathname.split(anchor)[1]!.replace(/\/+$/, '');
  }
  throw new MlflowError(
    `MLflow artifact URI ${artifactUri} is one the server does not proxy; start the server with --serve-artifacts and without a --default-artifact-root that points at a path only the server can see`,
  );
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

const join = (root: string, relativePath: string) => [root, relativePath].filter(Boolean).join('/');

export async function uploadArtifact(client: MlflowClient, root: string, relativePath: string, bytes: Uint8Array): Promise<void> {
  await client.putArtifact(`upload ${relativePath}`, `${ARTIFACTS_API}/${encodePath(join(root, relativePath))}`, bytes);
}

export function downloadArtifact(client: MlflowClient, root: string, relativePath: string): Promise<Uint8Array> {
  return client.getBytes(`download ${relativePath}`, `${ARTIFACTS_API}/${encodePath(join(root, relativePath))}`);
}

export interface ArtifactEntry {
  /** Base name inside the listed directory. */
  path: string;
  isDir: boolean;
  bytes: number | null;
}

export async function listArtifacts(client: MlflowClient, root: string): Promise<ArtifactEntry[]> {
  const listed = await client.call<{ files?: Array<{ path: string; is_dir?: boolean; file_size?: string | number }> }>(
    `list artifacts in ${root}`,
    'GET',
    ARTIFACTS_API,
    new URLSearchParams({ path: root }),
  );
  return (listed.files ?? []).map((f) => ({
    path: f.path,
    isDir: f.is_dir === true,
    bytes: f.file_size === undefined ? null : Number(f.file_size),
  }));
}
