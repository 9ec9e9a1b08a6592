export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[index] ?? 0) * 100) / 100;
}

export function summary(values: number[]): { runs: number; p50: number; p95: number; max: number } {
  return { runs: values.length, p50: percentile(values, 50), p95: percentile(values, 95), max: percentile(values, 100) };
}
