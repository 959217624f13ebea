/** Raw driver values (CutoverDb rows) as text. */

/** A value as text; null and undefined as ''. */
export const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
