/**
 * Whether a suite's system part is here. Outside CI a missing part skips the suite with `hint`
 * printed; CI sets FERRY_REQUIRE_ALL_SUITES after installing every part, so there a missing one
 * fails the suite instead of skipping it silently.
 */
export function suiteRunnable(available: boolean, hint: string): boolean {
  if (available) return true;
  if (process.env.FERRY_REQUIRE_ALL_SUITES) throw new Error(`FERRY_REQUIRE_ALL_SUITES is set, but ${hint}`);
  console.warn(hint);
  return false;
}
