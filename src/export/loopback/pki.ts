import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  caCert: string;
  serverKey: string;
  serverCert: string;
  caCertPath: string;
  serverKeyPath: string;
  serverCertPath: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1/localhost, made with the openssl binary. */
export function createTestPki(dir: string, commonName = 'Ferry test CA'): TestPki {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${commonName}`,
    '-keyout', path('ca.key'), '-out', path('ca.crt'));
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', path('server.key'), '-out', path('server.csr'));
  writeFileSync(path('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial', '-days', '2',
    '-extfile', path('server.ext'), '-out', path('server.crt'));
  return {
    caCert: readFileSync(path('ca.crt'), 'utf8'),
    serverKey: readFileSync(path('server.key'), 'utf8'),
    serverCert: readFileSync(path('server.crt'), 'utf8'),
    caCertPath: path('ca.crt'),
    serverKeyPath: path('server.key'),
    serverCertPath: path('server.crt'),
  };
}
