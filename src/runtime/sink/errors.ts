/**
 * The sink runtime's internal signals (they never leave it: run() rejects only with a
 * FerryError), and which FerryErrors are data errors, isolated by splitting the batch.
 */
import { type ErrorCode, type FerryError, isFerryError } from '../../api/index.js';

/** The stored offsets moved under us (another process of the group, or an unknown commit outcome). */
export class FencedError extends Error {}
/** The chunk was cut against a state this process has changed since; refetch it. */
export class StaleError extends Error {}
/** stop() was called while waiting to retry. */
export class StoppedError extends Error {}

const DATA_CODES = new Set<ErrorCode>(['FERRY_APPLY', 'FERRY_ENCODE', 'FERRY_DECODE']);

/** A data error: the target (or the value conversion) rejected a row; splitting the batch isolates it. */
export function isDataError(err: unknown): err is FerryError {
  return isFerryError(err) && !err.retriable && DATA_CODES.has(err.code);
}
