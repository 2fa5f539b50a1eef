import { describe, expect, it } from 'vitest';
import { findSecretLikePaths, npmrcHasCredentials, secretLikeEnv } from '../../scripts/image/check/secret-scan.js';
import { interpretAuditJson } from '../../scripts/image/check/npm-audit.js';

describe('image secret scan rules', () => {
  it('flags dotenv files, private keys, SSH keys, credentials, test code and raw data', () => {
    const listing = [
      'app/.env',
      './app/.env.production',
      'root/.ssh/id_rsa',
      'home/x/id_ed25519',
      'app/server.key',
      'app/tls/cert.pem',
      'root/.aws/credentials',
      'root/.docker/config.json',
      'root/.git-credentials',
      'app/test/api.test.ts',
      'app/data/processed.cleveland.data',
      'tmp/extra-ca/extra-ca.crt',
    ];
    const flagged = findSecretLikePaths(listing).map((f) => f.path);
    expect(flagged).toEqual(listing.map((p) => p.replace(/^\.\//, '')));
  });

  it('leaves public CA stores, directories and ordinary files alone', () => {
    const listing = [
      'etc/ssl/certs/ISRG_Root_X1.pem',
      'usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt',
      'usr/lib/ssl/cert.pem',
      'app/dist/api/server.js',
      'app/artifacts/model.onnx',
      'app/data/feature-schema.json',
      'app/node_modules/some-lib/test/fixture.js',
      'tmp/extra-ca/',
      'root/',
    ];
    expect(findSecretLikePaths(listing)).toEqual([]);
  });

  it('detects registry credentials in .npmrc but not plain settings', () => {
    expect(npmrcHasCredentials('//registry.npmjs.org/:_authToken=npm_abc123\n')).toBe(true);
    expect(npmrcHasCredentials('fund=false\n_auth = dXNlcjpwYXNz\n')).toBe(true);
    expect(npmrcHasCredentials('onnxruntime-node-install=skip\nfund=false\naudit=false\n')).toBe(false);
    expect(npmrcHasCredentials('# _authToken=commented out\n')).toBe(false);
  });

  it('flags credential-like environment variables that carry a value', () => {
    expect(secretLikeEnv(['NODE_ENV=production', 'API_KEYS=', 'GITHUB_TOKEN=ghp_x', 'DB_PASSWORD=hunter2', 'PORT=8000'])).toEqual([
      'GITHUB_TOKEN=ghp_x',
      'DB_PASSWORD=hunter2',
    ]);
  });
});

describe('npm audit interpretation', () => {
  it('fails on high or critical findings and passes on low ones', () => {
    const report = (v: Record<string, number>) =>
      JSON.stringify({ auditReportVersion: 2, vulnerabilities: {}, metadata: { vulnerabilities: v } });
    expect(interpretAuditJson(report({ info: 0, low: 2, moderate: 1, high: 0, critical: 0, total: 3 })).status).toBe('PASS');
    expect(interpretAuditJson(report({ info: 0, low: 0, moderate: 0, high: 1, critical: 0, total: 1 })).status).toBe('FAIL');
    expect(interpretAuditJson(report({ info: 0, low: 0, moderate: 0, high: 0, critical: 2, total: 2 })).status).toBe('FAIL');
  });

  it('reports an unreachable audit endpoint as unavailable, never as a pass', () => {
    const offline = JSON.stringify({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
    });
    const outcome = interpretAuditJson(offline);
    expect(outcome.status).toBe('UNAVAILABLE');
    expect(outcome.detail).toContain('405');
    expect(interpretAuditJson('npm ERR! network').status).toBe('UNAVAILABLE');
  });
});
