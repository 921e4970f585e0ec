/** The broker options of each observability mode. */
export const MODES: Record<string, Record<string, unknown>>;
