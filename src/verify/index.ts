/**
 * `ferry verify`: proves that the target equals the source, across engines, in bounded memory
 * (docs/verify.md). verify() takes explicit table pairs; verifyPipeline() derives them from a
 * pipeline config (what the CLI and cutover call).
 */

export { verifyPipeline } from './pipeline.js';
export { type FormatOptions, formatVerifyReport, verifyReportJson } from './report.js';
export {
  capturedTables,
  endpointOf,
  endpointsOf,
  type PipelineVerifyOptions,
  pairOf,
  resolveTablePairs,
} from './tables.js';
export {
  DEFAULT_SETTINGS,
  type EngineKind,
  type RecheckPolicy,
  type RowDifference,
  type TablePair,
  type TableReport,
  type VerifyEndpoint,
  type VerifyMethod,
  type VerifyOptions,
  type VerifyReport,
  type VerifySettings,
} from './types.js';
export { filterPairs, resolveSettings, verify } from './verify.js';
