const UNITS: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

/** Bytes of a Kubernetes quantity of memory or storage such as 512Mi or 1G; undefined when it cannot be read. */
export function quantityBytes(quantity: string | undefined): number | undefined {
  const match = quantity?.match(/^(\d+(?:\.\d+)?)(|k|M|G|T|Ki|Mi|Gi|Ti)$/);
  return match ? Number(match[1]) * UNITS[match[2]!]! : undefined;
}
