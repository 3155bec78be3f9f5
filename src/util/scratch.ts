import { quantityBytes } from './quantity.js';

/** The size of a sync Job's scratch space (its /tmp's sizeLimit, a quantity), told to the run's process. */
export const ENV_SCRATCH_LIMIT = 'FERRY_SCRATCH_LIMIT';

/** Decoded files kept for later reads when no scratch size is told (a local run's /tmp). */
const UNTOLD_KEPT_BYTES = 2 * 1024 ** 3;

/**
 * Bytes of decoded files a run keeps on its scratch space for later reads: half of it, the other half
 * left for the file being decoded and a key census beside it.
 */
export function keptCopiesBytes(scratchLimit: string | undefined): number {
  const bytes = quantityBytes(scratchLimit);
  return bytes === undefined ? UNTOLD_KEPT_BYTES : Math.floor(bytes / 2);
}
