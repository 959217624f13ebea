// biome-ignore-all lint/suspicious/noTemplateCurlyInString: examples show the ${VAR} syntax of pipeline configs.
/** The `tls` block of the pipeline config schema (schema.ts): the same fields for source, sink and kafka. */
import * as z from 'zod';
import { TLS_MODES } from '../api/tls.js';
import { field, nonEmpty } from './schema-field.js';

export { TLS_MODES };

const PEM_OR_FILE =
  'a PEM file path, or the PEM text itself (a value that starts with `-----BEGIN`, e.g. `${VAR}` holding the ' +
  'certificate)';

export const tlsSchema = z.strictObject({
  mode: field(z.enum(TLS_MODES).default('verify-full'), {
    description:
      "libpq's sslmode meanings: `disable` plaintext; `require` encrypted, the certificate checked against `ca` " +
      'only when `ca` is given, never the host name; `verify-ca` encrypted and the certificate signed by `ca` (or ' +
      'a system CA); `verify-full` as verify-ca and the certificate names the host (or `serverName`). MySQL/MariaDB: ' +
      'REQUIRED, VERIFY_CA and VERIFY_IDENTITY.',
    example: 'verify-full',
  }),
  ca: field(nonEmpty().optional(), {
    description: `CA certificate(s) the server certificate must be signed by: ${PEM_OR_FILE}. Left out: the system CAs.`,
    example: '/etc/ferry/ca.pem',
  }),
  cert: field(nonEmpty().optional(), {
    description: `Client certificate, for servers that ask for one (mutual TLS): ${PEM_OR_FILE}. Needs \`key\`.`,
    example: '/etc/ferry/client.pem',
  }),
  key: field(nonEmpty().optional(), {
    description:
      'Private key of the client certificate (unencrypted PEM): a file path, or the PEM text (`${VAR}`). Never ' +
      'logged or printed.',
    example: '${FERRY_CLIENT_KEY}',
    secret: true,
  }),
  serverName: field(nonEmpty().optional(), {
    description:
      'Name the server certificate must hold under `verify-full`, and the TLS SNI name, when it differs from the ' +
      'host connected to. Not supported for MySQL/MariaDB (the driver checks the host of the URL).',
    example: 'db.internal.example.com',
  }),
});

export type ParsedTls = z.output<typeof tlsSchema>;
