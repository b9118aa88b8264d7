/** Small helpers for benchmarks. */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export const timeMs = async (f: () => unknown): Promise<number> => {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}
