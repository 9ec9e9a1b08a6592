/** A short summary of an EXPLAIN (ANALYZE, BUFFERS) text plan: indexes used, rows scanned, buffers, time. */
export interface PlanSummary {
  scopeRows?: number;
  statement?: number;
  /** "Index Scan using x", "Bitmap Index Scan on x", "Seq Scan on x", one per scan node. */
  scans: string[];
  /** Rows the scan nodes returned plus the rows their filters removed. */
  rowsScanned: number;
  rowsRemovedByFilter: number;
  sharedHit: number;
  sharedRead: number;
  executionMs: number;
}

export function planSummary(text: string): PlanSummary {
  const lines = text.split('\n');
  const scans: string[] = [];
  let rowsScanned = 0;
  let removed = 0;
  for (const [i, line] of lines.entries()) {
    const scan = /(Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan|Seq Scan)(?: Backward)? (?:using|on) (\S+)/.exec(line);
    if (scan) {
      const rows = /actual time=\S+ rows=(\d+) loops=(\d+)/.exec(line);
      const returned = rows ? Number(rows[1]) * Number(rows[2]) : 0;
      let filtered = 0;
      for (let j = i + 1; j < lines.length && !/->/.test(lines[j]!); j++) {
        const m = /Rows Removed by (?:Filter|Index Recheck): (\d+)/.exec(lines[j]!);
        if (m) filtered += Number(m[1]);
      }
      if (scan[1] !== 'Bitmap Index Scan') rowsScanned += returned + filtered;
      removed += filtered;
      const node = scan[1]!;
      scans.push(
        `${node} ${node === 'Seq Scan' || node.startsWith('Bitmap') ? 'on' : 'using'} ${scan[2]} (rows ${returned}${filtered ? `, filtered ${filtered}` : ''})`,
      );
    }
  }
  // The top node's buffers cover the whole statement.
  const buffers = lines.find((line) => /Buffers: shared/.test(line)) ?? '';
  const hit = /hit=(\d+)/.exec(buffers);
  const read = /read=(\d+)/.exec(buffers);
  const execution = /Execution Time: ([\d.]+) ms/.exec(text);
  return {
    scans,
    rowsScanned,
    rowsRemovedByFilter: removed,
    sharedHit: hit ? Number(hit[1]) : 0,
    sharedRead: read ? Number(read[1]) : 0,
    executionMs: execution ? Number(execution[1]) : 0,
  };
}
