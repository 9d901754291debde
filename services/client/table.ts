/** Renders rows as a left-aligned text table with a header row; cells are clipped to `maxWidth`. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], maxWidth = 48): string {
  const clip = (cell: string): string => (cell.length > maxWidth ? `${cell.slice(0, maxWidth - 1)}…` : cell);
  const clipped = rows.map((row) => row.map(clip));
  const widths = headers.map((header, i) => Math.max(header.length, ...clipped.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...clipped.map(line)].join('\n') + '\n';
}
