/** Structured logging that never prints secrets. */
export { type MemoryDestination, memoryDestination } from './destination.js';
export {
  createLogger,
  type FerryLogger,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogDestination,
  type LogFormat,
  type LoggerOptions,
  type LogLevel,
} from './logger.js';
export { formatPrettyLine, type PrettyOptions } from './pretty.js';
export {
  compileSecrets,
  isSecretKey,
  MASK,
  maskUrlCredentials,
  REDACTED,
  redact,
  redactFields,
  redactString,
  type SecretMatcher,
} from './redact.js';
