/** One bar of the ratio chart: ours / baseline, with its goal if it has one. */
export interface RatioBar {
  label: string;
  ratio: number;
  goal: number | null;
  /** Throughput ratios: higher is better; latency ratios: lower is better. */
  higherIsBetter: boolean;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A horizontal bar chart (hand-written SVG, no dependency) of ours / baseline ratios on a log scale,
 * the line at 1 (parity) and a red mark at each bar's goal.
 */
export function ratioChartSvg(title: string, subtitle: string, bars: RatioBar[]): string {
  const finite = bars.flatMap((b) => [b.ratio, b.goal ?? 1]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(1, ...finite)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...finite)) + 1e-9);
  const width = 1100;
  const left = 420;
  const right = 240;
  const top = 70;
  const rowH = 34;
  const plotW = width - left - right;
  const height = top + bars.length * rowH + 60;
  const x = (v: number): number =>
    left +
    ((Math.log10(Math.max(lo, Math.min(hi, v))) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) *
      plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`,
  ];
  // decade grid
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const gx = x(d).toFixed(1);
    out.push(
      `<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${top + bars.length * rowH}" stroke="${d === 1 ? '#333' : '#ddd'}" stroke-width="${d === 1 ? 1.5 : 1}"/>`,
      `<text x="${gx}" y="${top + bars.length * rowH + 16}" text-anchor="middle" fill="#333">${d >= 1 ? d.toFixed(0) : String(Number(d.toPrecision(1)))}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const ok = b.goal === null ? null : b.higherIsBetter ? b.ratio >= b.goal : b.ratio <= b.goal;
    const fill = ok === null ? '#7f8c9d' : ok ? '#2e8b57' : '#d9822b';
    const x0 = x(lo);
    const x1 = Number.isFinite(b.ratio) && b.ratio > 0 ? x(b.ratio) : x0;
    out.push(
      `<text x="${left - 10}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${x0.toFixed(1)}" y="${y + 6}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${rowH - 12}" fill="${fill}"/>`,
      `<text x="${(x1 + 6).toFixed(1)}" y="${y + rowH / 2 + 4}" fill="#111">${Number.isFinite(b.ratio) ? b.ratio.toFixed(b.ratio < 0.1 ? 3 : 2) : 'n/a'} (${b.goal === null ? '' : `goal ${b.higherIsBetter ? '&#8805;' : '&#8804;'} ${b.goal}, `}${b.higherIsBetter ? 'higher' : 'lower'} is better)</text>`,
    );
    if (b.goal !== null) {
      const gx = x(b.goal).toFixed(1);
      out.push(
        `<line x1="${gx}" y1="${y + 2}" x2="${gx}" y2="${y + rowH - 2}" stroke="#c0392b" stroke-width="3"><title>goal ${b.higherIsBetter ? '&#8805;' : '&#8804;'} ${b.goal}</title></line>`,
      );
    }
  });
  const ly = top + bars.length * rowH + 36;
  out.push(
    `<text x="${left}" y="${ly}" fill="#333">ratio ours / baseline, log scale; black line: parity (1); red mark: goal; green: goal met, orange: goal missed, grey: no goal</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}
