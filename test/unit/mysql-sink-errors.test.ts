/**
 * How the MySQL sink classifies a row larger than max_allowed_packet (errno 1153): a data error
 * that names the errno (it becomes the dead-letter reason) and marks the connection as lost.
 */
import { describe, expect, it } from 'vitest';
import { classifyMySqlError } from '../../connectors/mysql-sink/errors.js';

function serverError(errno: number, code: string, sqlState: string, message: string): Error {
  return Object.assign(new Error(message), { errno, code, sqlState });
}

describe('classifyMySqlError', () => {
  it('sink packet too large: errno 1153 is a data error naming the errno, and the connection is lost', () => {
    const err = classifyMySqlError(
      serverError(1153, 'ER_NET_PACKET_TOO_LARGE', '08S01', "Got a packet bigger than 'max_allowed_packet' bytes"),
      'applying a batch',
    );
    expect(err.code).toBe('FERRY_APPLY');
    expect(err.retriable).toBe(false);
    expect(err.details).toMatchObject({ data: true, errno: 1153, connectionLost: true });
    expect(err.message).toBe(
      "applying a batch: Got a packet bigger than 'max_allowed_packet' bytes (errno 1153, SQLSTATE 08S01)",
    );
  });

  it('keeps other SQLSTATE 08 errors as connection errors', () => {
    const err = classifyMySqlError(serverError(1160, 'ER_NET_ERROR_ON_WRITE', '08S01', 'write error'), 'applying');
    expect(err.code).toBe('FERRY_CONNECTION');
    expect(err.retriable).toBe(true);
    expect(err.details['connectionLost']).toBeUndefined();
  });

  it('names the errno of every data error', () => {
    const err = classifyMySqlError(serverError(1406, 'ER_DATA_TOO_LONG', '22001', 'Data too long'), 'applying');
    expect(err.code).toBe('FERRY_APPLY');
    expect(err.message).toBe('applying: Data too long (errno 1406, SQLSTATE 22001)');
  });
});
