import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A one-day self-signed certificate and its key, written as `<name>.pem` and `<name>.key` in `dir`:
 * its own trust anchor, which a process trusts through NODE_EXTRA_CA_CERTS. `subjectAltName` is
 * openssl's form, e.g. `IP:127.0.0.1` or `DNS:localhost,IP:127.0.0.1`.
 */
export function selfSignedCertificate(
  dir: string,
  { name = 'cert', commonName, subjectAltName }: { name?: string; commonName: string; subjectAltName: string },
): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${subjectAltName}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}
