export interface Bar {
  readonly label: string;
  readonly ms: number;
  readonly reference?: boolean;
}

/** Horizontal bars on a log scale (ours against the published figures we replace). */
export function barChart(title: string, bars: readonly Bar[]): string {
  const width = 1000;
  const left = 330;
  const barHeight = 26;
  const top = 48;
  const height = top + bars.length * (barHeight + 10) + 40;
  const minLog = Math.log10(10);
  const maxLog = Math.log10(Math.max(...bars.map((bar) => bar.ms)) * 1.5);
  const x = (ms: number): number =>
    ((Math.log10(Math.max(ms, 10)) - minLog) / (maxLog - minLog)) * (width - left - 300);
  const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const format = (ms: number): string =>
    ms >= 60_000
      ? `${(ms / 60_000).toFixed(0)} min`
      : ms >= 1000
        ? `${(ms / 1000).toFixed(1)} s`
        : `${ms.toFixed(0)} ms`;
  const rows = bars.map((bar, index) => {
    const y = top + index * (barHeight + 10);
    const fill = bar.reference ? "#b0b0b0" : "#2f7ed8";
    return [
      `<text x="${left - 10}" y="${y + 18}" text-anchor="end" font-size="13">${escape(bar.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(2, x(bar.ms)).toFixed(1)}" height="${barHeight}" fill="${fill}"/>`,
      `<text x="${left + Math.max(2, x(bar.ms)) + 6}" y="${y + 18}" font-size="13">${format(bar.ms)}${bar.reference ? " (published figure, not ours)" : ""}</text>`,
    ].join("");
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="28" font-size="16" font-weight="bold">${escape(title)}</text>`,
    ...rows,
    `<text x="20" y="${height - 14}" font-size="11" fill="#555">log scale; blue: measured here (median); grey: published figures for the SAM/Docker and deploy loops</text>`,
    `</svg>`,
  ].join("\n");
}
