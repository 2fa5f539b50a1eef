/**
 * A kubeconfig made usable inside the Dagger engine's containers. Minikube's kubeconfig names a server only the
 * host reaches: 127.0.0.1:<port> with the Docker driver on macOS and Windows, the Minikube network's address
 * (192.168.49.2) on Linux; an engine container reaches neither (dagger/dagger#2194). Such a server is reached through
 * the engine's host service instead: the server becomes `https://<alias>:<port>` (the alias the tunnel is bound
 * under) and `tls-server-name` keeps the original host, so the certificate is still verified against the name the
 * kubeconfig trusted. Pure: the module's deploy function binds the tunnel this returns.
 */
import { parse, stringify } from 'yaml';

/** auto: tunnel when `needsTunnel` says so; always / never: as named. */
export type TunnelMode = 'auto' | 'always' | 'never';

export interface EngineKubeconfig {
  /** The kubeconfig the deploy container reads. */
  text: string;
  /** Where the host service must forward to, when the server is tunnelled; the tunnel listens on the same port. */
  tunnel?: { host: string; port: number };
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Hosts an engine container cannot reach by itself, because they name the host's own network or one only the host
 * routes to: loopback (localhost, 127.0.0.0/8, ::1), private and link-local networks where local clusters live
 * (10/8, 172.16/12, 192.168/16 — Minikube's Docker, KVM and HyperKit networks —, 169.254/16, 100.64/10, fc00::/7,
 * fe80::/10), and names that only the host resolves (no dot, .local, .internal, .localhost: host.docker.internal,
 * control-plane.minikube.internal). Public addresses and DNS names are reached directly.
 */
export function needsTunnel(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  const v4 = IPV4.exec(name)?.slice(1).map(Number);
  if (v4) {
    const [a = 0, b = 0] = v4;
    return (
      a === 127 ||
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (name.includes(':')) return name === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(name) || /^fe[89ab][0-9a-f]?:/.test(name);
  return !name.includes('.') || /\.(local|internal|localhost)$/.test(name);
}

interface Named<T> {
  name?: string;
  [key: string]: unknown;
  cluster?: T;
  context?: T;
}

/** Rewrites the current context's cluster for the engine; `alias` is the service binding the tunnel is reached by. */
export function engineKubeconfig(text: string, alias: string, mode: TunnelMode = 'auto'): EngineKubeconfig {
  let config: { 'current-context'?: string; contexts?: Named<{ cluster?: string }>[]; clusters?: Named<Record<string, unknown>>[] };
  try {
    config = parse(text) as typeof config;
  } catch (error) {
    throw new Error(`the kubeconfig is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  const contextName = config?.['current-context'];
  const clusterName = config?.contexts?.find((c) => c.name === contextName)?.context?.cluster;
  const cluster = config?.clusters?.find((c) => c.name === clusterName)?.cluster;
  const server = cluster?.server;
  if (typeof server !== 'string' || !URL.canParse(server)) {
    throw new Error(`the kubeconfig's current context "${contextName ?? ''}" names no cluster with a server URL`);
  }
  const url = new URL(server);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (mode === 'never' || (mode === 'auto' && !needsTunnel(host))) return { text };
  const port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
  cluster!.server = `${url.protocol}//${alias}:${port}${url.pathname === '/' ? '' : url.pathname}`;
  cluster!['tls-server-name'] ??= host;
  return { text: stringify(config), tunnel: { host, port } };
}
