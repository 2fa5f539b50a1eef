/**
 * dagger/src/kubeconfig.ts: which servers the deploy function tunnels to through the engine's host service, and the
 * rewritten kubeconfig. The TLS part is checked for real: a server whose certificate names only 127.0.0.1, reached
 * by another name (as the engine reaches the tunnel by its alias), is accepted by client-node (the deploy CLI's
 * client) and by kubectl (client-go, as Helm) only thanks to tls-server-name, and a wrong CA is still refused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { runProcess } from '../../scripts/lib/process.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { engineKubeconfig, needsTunnel } from '../../dagger/src/kubeconfig.js';
import { clusterConfig } from '../support/cluster.js';
import { realComponent } from '../support/real-component.js';

const kubeconfig = (server: string, extra = '') =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: minikube\n  cluster:\n    server: ${server}\n    certificate-authority-data: Q0E=${extra}`,
    '- name: other\n  cluster:\n    server: https://127.0.0.1:7000',
    'users:\n- name: minikube\n  user:\n    token: secret-token',
    'contexts:\n- name: minikube\n  context:\n    cluster: minikube\n    user: minikube',
    'current-context: minikube',
    '',
  ].join('\n');

type Config = { clusters: Array<{ name: string; cluster: Record<string, unknown> }>; users: unknown };
const clusterOf = (text: string, name = 'minikube') => (parse(text) as Config).clusters.find((c) => c.name === name)!.cluster;

describe('which API servers the engine reaches through the host', () => {
  it.each([
    ['127.0.0.1', true], // Minikube, Docker driver on macOS and Windows
    ['127.3.4.5', true],
    ['localhost', true],
    ['[::1]', true],
    ['192.168.49.2', true], // Minikube's Docker network on Linux
    ['192.168.64.3', true], // HyperKit
    ['10.0.0.8', true],
    ['172.16.0.1', true],
    ['172.31.255.254', true],
    ['169.254.1.1', true],
    ['100.64.0.7', true],
    ['fd12:3456::1', true],
    ['fe80::1', true],
    ['minikube', true],
    ['host.docker.internal', true],
    ['control-plane.minikube.internal', true],
    ['my-mac.local', true],
    ['172.15.0.1', false],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    ['35.190.1.2', false],
    ['2001:db8::1', false],
    ['k8s.example.com', false],
  ])('%s -> %s', (host, tunnel) => expect(needsTunnel(host)).toBe(tunnel));
});

describe('the kubeconfig rewrite', () => {
  it('Minikube on macOS: the server becomes the alias on the same port, tls-server-name keeps 127.0.0.1, nothing else moves', () => {
    const original = kubeconfig('https://127.0.0.1:32771');
    const result = engineKubeconfig(original, 'kube-api');
    expect(result.tunnel).toEqual({ host: '127.0.0.1', port: 32771 });
    expect(clusterOf(result.text)).toEqual({
      server: 'https://kube-api:32771',
      'certificate-authority-data': 'Q0E=',
      'tls-server-name': '127.0.0.1',
    });
    expect(clusterOf(result.text, 'other')).toEqual(clusterOf(original, 'other')); // not the current context's
    const { clusters: _a, ...rest } = parse(result.text) as Config;
    const { clusters: _b, ...before } = parse(original) as Config;
    expect(rest).toEqual(before);
  });

  it('Minikube on Linux, IPv6 loopback, a default port and a path prefix', () => {
    expect(engineKubeconfig(kubeconfig('https://192.168.49.2:8443'), 'a').tunnel).toEqual({ host: '192.168.49.2', port: 8443 });
    const v6 = engineKubeconfig(kubeconfig('https://[::1]:6443'), 'a');
    expect([v6.tunnel, clusterOf(v6.text)['tls-server-name']]).toEqual([{ host: '::1', port: 6443 }, '::1']);
    const prefixed = engineKubeconfig(kubeconfig('https://localhost/k8s/clusters/c-1'), 'a');
    expect([prefixed.tunnel?.port, clusterOf(prefixed.text).server]).toEqual([443, 'https://a:443/k8s/clusters/c-1']);
  });

  it('keeps a tls-server-name the kubeconfig already has', () => {
    const result = engineKubeconfig(kubeconfig('https://127.0.0.1:6443', '\n    tls-server-name: kubernetes'), 'a');
    expect(clusterOf(result.text)['tls-server-name']).toBe('kubernetes');
  });

  it('leaves a reachable server alone unless told to tunnel; never means never', () => {
    const publicConfig = kubeconfig('https://k8s.example.com:6443');
    expect(engineKubeconfig(publicConfig, 'a')).toEqual({ text: publicConfig });
    expect(engineKubeconfig(publicConfig, 'a', 'always').tunnel).toEqual({ host: 'k8s.example.com', port: 6443 });
    const local = kubeconfig('https://127.0.0.1:6443');
    expect(engineKubeconfig(local, 'a', 'never')).toEqual({ text: local });
  });

  it('says what is wrong with a kubeconfig it cannot rewrite', () => {
    expect(() => engineKubeconfig('clusters: [oops', 'a')).toThrow(/not valid YAML/);
    expect(() => engineKubeconfig('apiVersion: v1\ncurrent-context: x\n', 'a')).toThrow(
      /current context "x" names no cluster with a server URL/,
    );
  });
});

const haveOpenssl = realComponent(
  'openssl',
  spawnSync('openssl', ['version']).status === 0,
  'no openssl on PATH (apt-get install openssl)',
);

describe.runIf(haveOpenssl)('TLS through the tunnel: the certificate is checked against the original server name', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hd-tunnel-tls-'));
  let server: https.Server;
  let port: number;
  const pem = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    // A server certificate for the IP only, as Minikube's names 127.0.0.1 and 192.168.49.2, not the engine's alias.
    for (const name of ['ca', 'other-ca']) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', pem(`${name}.key`), '-out', pem(`${name}.crt`), '-days', '1', '-subj', `/CN=${name}`], { stdio: 'ignore' }); // prettier-ignore
    }
    writeFileSync(pem('ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', pem('server.key'), '-out', pem('server.csr'), '-subj', '/CN=kube-apiserver'], { stdio: 'ignore' }); // prettier-ignore
    execFileSync('openssl', ['x509', '-req', '-in', pem('server.csr'), '-CA', pem('ca.crt'), '-CAkey', pem('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', pem('ext'), '-out', pem('server.crt')], { stdio: 'ignore' }); // prettier-ignore
    server = https.createServer({ key: readFileSync(pem('server.key')), cert: readFileSync(pem('server.crt')) }, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ major: '1', minor: '37', gitVersion: 'v1.37.2-tunnel-test', platform: 'linux/amd64' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The kubeconfig as the engine gets it, with `localhost` standing in for the service alias (both are another name). */
  const tunnelled = (ca: string) => {
    const text = kubeconfig(`https://127.0.0.1:${port}`).replace('Q0E=', readFileSync(pem(ca)).toString('base64'));
    const result = engineKubeconfig(text, 'localhost');
    expect(result.tunnel).toEqual({ host: '127.0.0.1', port });
    return result.text;
  };
  const clientNodeVersion = async (text: string) => {
    const kc = new KubeConfig();
    kc.loadFromString(text);
    return (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
  };

  it('client-node verifies the certificate against tls-server-name, and only with the right CA', async () => {
    const text = tunnelled('ca.crt');
    expect(await clientNodeVersion(text)).toBe('v1.37.2-tunnel-test');
    const withoutName = text.replace(/\n\s*tls-server-name: .*/, '');
    await expect(clientNodeVersion(withoutName)).rejects.toThrow(/altnames|does not match|localhost/i);
    await expect(clientNodeVersion(tunnelled('other-ca.crt'))).rejects.toThrow(/certificate/i);
  });

  const kubectl = clusterConfig('KUBECTL');
  it.runIf(realComponent('kubectl', existsSync(kubectl), `no ${kubectl} (bash scripts/cluster/build.sh)`))(
    'kubectl (client-go, as Helm) does the same',
    async () => {
      // Asynchronously: the test server answers from this process's event loop.
      const run = (text: string) => {
        const file = path.join(dir, `kc-${Math.random().toString(36).slice(2)}`);
        writeFileSync(file, text);
        return runProcess(kubectl, ['--kubeconfig', file, 'version', '-o', 'json', '--request-timeout', '5s']);
      };
      const ok = await run(tunnelled('ca.crt'));
      expect(ok.stdout, ok.stderr).toContain('v1.37.2-tunnel-test');
      const withoutName = await run(tunnelled('ca.crt').replace(/\n\s*tls-server-name: .*/, ''));
      expect(withoutName.stderr).toMatch(/x509: certificate is not valid for any names, but wanted to match localhost/);
      expect((await run(tunnelled('other-ca.crt'))).stderr).toMatch(/x509: certificate signed by unknown authority/);
    },
  );
});
