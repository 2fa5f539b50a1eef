/**
 * Pure rules for "no secrets in the image": applied to the paths of an exported container filesystem
 * (`docker export | tar -t`) and to the text of any .npmrc found there.
 */

/** Public CA stores: certificates there are meant to be shipped. */
const PUBLIC_CERT_DIRS = ['etc/ssl/certs/', 'usr/share/ca-certificates/', 'etc/ca-certificates/', 'usr/local/share/ca-certificates/'];

/** OpenSSL's default bundle path, a link to the public CA store. */
const PUBLIC_CERT_FILES = ['usr/lib/ssl/cert.pem'];

const RULES: { reason: string; test: (p: string, base: string) => boolean }[] = [
  { reason: 'dotenv file', test: (_p, base) => base === '.env' || base.startsWith('.env.') },
  {
    reason: 'private key or certificate file',
    test: (p, base) =>
      /\.(pem|key|p12|pfx|jks|keystore)$/i.test(base) && !PUBLIC_CERT_DIRS.some((d) => p.startsWith(d)) && !PUBLIC_CERT_FILES.includes(p),
  },
  {
    reason: 'SSH key',
    test: (p, base) => /^id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$/.test(base) || p.includes('/.ssh/') || p.startsWith('.ssh/'),
  },
  {
    reason: 'credentials file',
    test: (p, base) =>
      ['.git-credentials', '.netrc', '.pypirc', '.pgpass'].includes(base) ||
      /(^|\/)\.aws\/credentials$/.test(p) ||
      /(^|\/)\.docker\/config\.json$/.test(p),
  },
  { reason: 'git metadata', test: (p) => /(^|\/)\.git\//.test(p) && p.startsWith('app/') },
  {
    reason: 'test code in the app',
    test: (p) => p.startsWith('app/test/') || (p.startsWith('app/') && !p.startsWith('app/node_modules/') && /\.test\.[cm]?[jt]s$/.test(p)),
  },
  {
    reason: 'raw training data in the app',
    test: (p) => p.startsWith('app/') && !p.startsWith('app/node_modules/') && /\.(data|csv)$/.test(p),
  },
  { reason: 'build-time CA bundle left behind', test: (p) => p.startsWith('tmp/extra-ca/') && p !== 'tmp/extra-ca/' },
];

export interface SecretFinding {
  path: string;
  reason: string;
}

export function normalizeTarPath(entry: string): string {
  return entry.trim().replace(/^\.?\/+/, '');
}

export function findSecretLikePaths(entries: readonly string[]): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const entry of entries) {
    const p = normalizeTarPath(entry);
    if (p === '' || p.endsWith('/')) continue;
    const base = p.slice(p.lastIndexOf('/') + 1);
    const rule = RULES.find((r) => r.test(p, base));
    if (rule) findings.push({ path: p, reason: rule.reason });
  }
  return findings;
}

/** .npmrc files are fine unless they carry registry credentials. */
export function npmrcHasCredentials(text: string): boolean {
  return /(^|\n)\s*[^#;\n]*(_authToken|_auth|_password|:username|certfile|keyfile)\s*=/i.test(text);
}

/** Image environment variables that look like credentials baked in at build time. */
export function secretLikeEnv(env: readonly string[]): string[] {
  return env.filter((kv) => {
    const [name = '', value = ''] = kv.split(/=(.*)/s);
    return /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIAL)/i.test(name) && value !== '';
  });
}
